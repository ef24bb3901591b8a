#!/usr/bin/env bash
# Makes sure what the tests talk to is there: PostgreSQL on 127.0.0.1:5432 (trust auth for local
# TCP connections), Redis on 127.0.0.1:6379, and Debian's Chromium for the dashboard tests.
# Starts the services when stopped and installs them with apt-get when absent, so that
# `npm test` also works on a bare Debian machine.
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

postgres_answers() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  if postgres_answers; then return; fi
  if ! command -v pg_lsclusters >/dev/null 2>&1; then apt_install postgresql postgresql-client; fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then log "no PostgreSQL cluster found"; exit 1; fi
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect as postgres over TCP without a password, as on this project's machines.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || as_root pg_ctlcluster "$version" main reload
  for _ in $(seq 1 50); do postgres_answers && return; sleep 0.2; done
  log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1
}

ensure_redis() {
  if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
  log "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return; sleep 0.1; done
  log "Redis does not answer on 127.0.0.1:6379"; exit 1
}

ensure_browser() {
  # The dashboard tests drive Debian's Chromium (a browser download of Playwright's own cannot be fetched here).
  if [ -x /usr/bin/chromium ]; then return; fi
  apt_install --no-install-recommends chromium
}

ensure_postgres
ensure_redis
ensure_browser
