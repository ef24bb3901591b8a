/**
 * Pure glue between the config and the tunnel: whether `[tunnel]` is on, where the SSH server
 * should connect (the `[database]` address as seen from the SSH host), and the `[database]`
 * section rewritten to go through the local end of the tunnel.
 */
import type { z } from 'zod';
import type { databaseSection, tunnelSection } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { TunnelOptions, TunnelTarget } from './ssh-tunnel.js';

export type TunnelSection = z.output<typeof tunnelSection>;
export type DatabaseSection = z.output<typeof databaseSection>;

const defaultPostgresPort = 5432;

/** TunnelOptions when `[tunnel]` is present with a host, else undefined (no tunnel). */
export function tunnelOptionsFromConfig(section: TunnelSection | undefined): TunnelOptions | undefined {
  if (section?.host === undefined) return undefined;
  // The schema requires user once host is set; this guards callers that skipped validation.
  if (section.user === undefined) throw new Error('[tunnel] host is set without user: validate the config first');
  return {
    host: section.host,
    port: section.port,
    user: section.user,
    ...(section.private_key_path === undefined ? {} : { privateKeyPath: section.private_key_path }),
    ...(section.password === undefined ? {} : { password: section.password }),
    ...(section.passphrase === undefined ? {} : { passphrase: section.passphrase }),
    ...(section.known_hosts_path === undefined ? {} : { knownHostsPath: section.known_hosts_path }),
  };
}

/**
 * Where PostgreSQL listens as seen from the SSH host: `url` or `host`/`port`, defaulting like
 * node-postgres (localhost:5432). A host that is a folder is a Unix socket folder, as in libpq
 * and in Mastodon's default `DB_HOST=/var/run/postgresql`: the socket file is
 * `<folder>/.s.PGSQL.<port>`, which OpenSSH forwards too.
 */
export function tunnelTargetFromDatabase(database: DatabaseSection): TunnelTarget {
  let host = database.host;
  let port = database.port;
  if (database.url !== undefined) {
    const url = databaseUrl(database.url);
    // postgres:///db?host=/var/run/postgresql is how a URL names a socket folder.
    host = url.searchParams.get('host') ?? (url.hostname === '' ? undefined : decodeURIComponent(url.hostname));
    port = url.port === '' ? undefined : Number(url.port);
  }
  host ??= 'localhost';
  port ??= defaultPostgresPort;
  if (host.startsWith('/')) return { socketPath: `${host.replace(/\/+$/, '')}/.s.PGSQL.${port}` };
  return { host, port };
}

/** `[database]` pointing at the tunnel's local end; everything else (user, name, ssl) unchanged. */
export function databaseThroughTunnel(database: DatabaseSection, local: { host: string; port: number }): DatabaseSection {
  if (database.url === undefined) return { ...database, host: local.host, port: local.port };
  const url = databaseUrl(database.url);
  url.searchParams.delete('host');
  url.hostname = local.host;
  url.port = String(local.port);
  return { ...database, url: url.toString() };
}

/** The url as a WHATWG URL, which the tunnel rewrites; libpq's `user@/db` socket form is none. */
function databaseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new UserError(
      'with [tunnel], write [database] url as postgres://user@host:port/name (for a socket folder: postgres://user@localhost/name?host=/var/run/postgresql), or use host, port, user, password and name instead',
      'config.invalid',
    );
  }
}
