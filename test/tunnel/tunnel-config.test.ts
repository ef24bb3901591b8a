import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load-config.js';
import { databaseThroughTunnel, tunnelOptionsFromConfig, tunnelTargetFromDatabase } from '../../src/tunnel/tunnel-config.js';
import { UserError } from '../../src/errors.js';

const base = {
  database: { name: 'mastodon_production' },
  source: { type: 'fs', path: '/srv/a' },
  destination: { type: 'fs', path: '/srv/b' },
};

test('no [tunnel], or one without host, means no tunnel', () => {
  assert.equal(tunnelOptionsFromConfig(validateConfig(base).tunnel), undefined);
  assert.equal(tunnelOptionsFromConfig(validateConfig({ ...base, tunnel: { port: '2222' } }).tunnel), undefined);
});

test('[tunnel] keys become TunnelOptions, port 22 by default', () => {
  const config = validateConfig({ ...base, tunnel: { host: 'db.example', user: 'mastodon', private_key_path: '/keys/id_ed25519', known_hosts_path: '/keys/known_hosts' } });
  assert.deepEqual(tunnelOptionsFromConfig(config.tunnel), {
    host: 'db.example',
    port: 22,
    user: 'mastodon',
    privateKeyPath: '/keys/id_ed25519',
    knownHostsPath: '/keys/known_hosts',
  });
  const withPassword = validateConfig({ ...base, tunnel: { host: 'h', port: '2222', user: 'u', password: 'pw', passphrase: 'pp' } });
  assert.deepEqual(tunnelOptionsFromConfig(withPassword.tunnel), { host: 'h', port: 2222, user: 'u', password: 'pw', passphrase: 'pp' });
});

test('[tunnel] with a host needs user and a key or password; unknown keys are refused', () => {
  assert.throws(() => validateConfig({ ...base, tunnel: { host: 'h', private_key_path: '/k' } }), (error: UserError) => /\[tunnel\] user/.test(error.message));
  assert.throws(() => validateConfig({ ...base, tunnel: { host: 'h', user: 'u' } }), (error: UserError) => /\[tunnel\] private_key_path/.test(error.message));
  assert.throws(() => validateConfig({ ...base, tunnel: { host: 'h', user: 'u', password: 'p', key: 'x' } }), (error: UserError) => /unknown key "key"/.test(error.message));
});

test('the tunnel target is [database] as the SSH host sees it', () => {
  assert.deepEqual(tunnelTargetFromDatabase({ name: 'm' }), { host: 'localhost', port: 5432 });
  assert.deepEqual(tunnelTargetFromDatabase({ name: 'm', host: '10.0.0.5', port: 6432 }), { host: '10.0.0.5', port: 6432 });
  assert.deepEqual(tunnelTargetFromDatabase({ url: 'postgres://u:p@db.internal:5433/m' }), { host: 'db.internal', port: 5433 });
  assert.deepEqual(tunnelTargetFromDatabase({ url: 'postgres://u@db.internal/m' }), { host: 'db.internal', port: 5432 });
});

test("a socket folder (Mastodon's default DB_HOST) targets the socket file", () => {
  assert.deepEqual(tunnelTargetFromDatabase({ name: 'm', host: '/var/run/postgresql' }), { socketPath: '/var/run/postgresql/.s.PGSQL.5432' });
  assert.deepEqual(tunnelTargetFromDatabase({ url: 'postgres:///m?host=/run/postgresql/', port: 1 }), { socketPath: '/run/postgresql/.s.PGSQL.5432' });
});

test('[database] through the tunnel keeps user, name and password', () => {
  const local = { host: '127.0.0.1', port: 40111 };
  assert.deepEqual(databaseThroughTunnel({ name: 'm', host: '/var/run/postgresql', user: 'mastodon', password: 'pw' }, local), {
    name: 'm',
    host: '127.0.0.1',
    port: 40111,
    user: 'mastodon',
    password: 'pw',
  });
  assert.deepEqual(databaseThroughTunnel({ url: 'postgres://u:p%40ss@db.internal:5433/m?sslmode=disable' }, local), {
    url: 'postgres://u:p%40ss@127.0.0.1:40111/m?sslmode=disable',
  });
  assert.deepEqual(databaseThroughTunnel({ url: 'postgres:///m?host=/var/run/postgresql' }, local), { url: 'postgres://127.0.0.1:40111/m' });
});

test("libpq's socket url postgres://user@/db?host=… is valid config; the tunnel, which must rewrite it, asks for a host", () => {
  const socketUrl = 'postgres://mastodon@/mastodon_production?host=/var/run/postgresql';
  const config = validateConfig({ ...base, database: { url: socketUrl } });
  assert.equal(config.database.url, socketUrl);
  assert.throws(
    () => tunnelTargetFromDatabase(config.database),
    (error: unknown) =>
      error instanceof UserError &&
      error.message ===
        'with [tunnel], write [database] url as postgres://user@host:port/name (for a socket folder: postgres://user@localhost/name?host=/var/run/postgresql), or use host, port, user, password and name instead',
  );
  assert.deepEqual(tunnelTargetFromDatabase(validateConfig({ ...base, database: { url: 'postgres://mastodon@localhost/mastodon_production?host=/var/run/postgresql' } }).database), {
    socketPath: '/var/run/postgresql/.s.PGSQL.5432',
  });
});
