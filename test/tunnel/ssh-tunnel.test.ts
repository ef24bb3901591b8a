/**
 * The tunnel against a real OpenSSH server (test/helpers/sshd.ts) and the real PostgreSQL on
 * 127.0.0.1:5432 (test/helpers/postgres.ts), as the SSH host sees it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { UserError } from '../../src/errors.js';
import { openSshTunnel, type TunnelOptions, type TunnelTarget } from '../../src/tunnel/ssh-tunnel.js';
import { serverSettings } from '../helpers/postgres.js';
import { ensureSshd, freePort, generateKey, startSshd, type Sshd } from '../helpers/sshd.js';

const run = promisify(execFile);
const skipReason = await ensureSshd();
if (skipReason !== undefined) console.log(`# skipping the SSH tunnel tests: ${skipReason}`);

const database = serverSettings();
const databaseTarget: TunnelTarget = { host: database.host, port: database.port };

async function selectOneThrough(local: { host: string; port: number }): Promise<number> {
  const client = new pg.Client({ ...database, host: local.host, port: local.port, database: 'postgres' });
  await client.connect();
  try {
    const result = await client.query<{ one: number }>('select 1 as one');
    return result.rows[0]?.one ?? -1;
  } finally {
    await client.end();
  }
}

/** Resolves with the UserError code openSshTunnel rejected with; fails the test if it opened. */
async function failureCode(options: TunnelOptions, target: TunnelTarget = databaseTarget): Promise<{ code: string; message: string }> {
  try {
    const tunnel = await openSshTunnel(options, target);
    await tunnel.close();
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return { code: error.code, message: error.message };
  }
  assert.fail('the tunnel opened');
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('openSshTunnel', { skip: skipReason }, () => {
  let sshd: Sshd;
  let options: TunnelOptions;

  before(async () => {
    sshd = await startSshd();
    options = { host: sshd.host, port: sshd.port, user: sshd.user, privateKeyPath: sshd.clientKeyPath };
  });
  after(async () => {
    await sshd?.stop();
  });

  test('a pg client reaches PostgreSQL through the tunnel', async () => {
    const tunnel = await openSshTunnel(options, databaseTarget);
    try {
      assert.equal(tunnel.host, '127.0.0.1');
      assert.notEqual(tunnel.port, database.port);
      assert.equal(await selectOneThrough(tunnel), 1);
      // Several connections at once, as a pg pool opens them.
      const results = await Promise.all([1, 2, 3, 4].map(() => selectOneThrough(tunnel)));
      assert.deepEqual(results, [1, 1, 1, 1]);
    } finally {
      await tunnel.close();
    }
  });

  test("PostgreSQL's Unix socket on the SSH host, as with DB_HOST=/var/run/postgresql", async (t) => {
    const socketPath = `/var/run/postgresql/.s.PGSQL.${database.port}`;
    try {
      await access(socketPath);
    } catch {
      t.skip(`no PostgreSQL socket at ${socketPath}`);
      return;
    }
    const tunnel = await openSshTunnel(options, { socketPath });
    try {
      assert.equal(await selectOneThrough(tunnel), 1);
    } finally {
      await tunnel.close();
    }
  });

  test('close() stops listening on the local port and is idempotent', async () => {
    const tunnel = await openSshTunnel(options, databaseTarget);
    assert.equal(await refusesConnections(tunnel.port), false);
    await tunnel.close();
    assert.equal(await refusesConnections(tunnel.port), true);
    await tunnel.close();
  });

  test('close() drops connections still open through the tunnel', async () => {
    const tunnel = await openSshTunnel(options, databaseTarget);
    const client = new pg.Client({ ...database, host: tunnel.host, port: tunnel.port, database: 'postgres' });
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    client.on('error', () => undefined);
    await client.connect();
    await tunnel.close();
    await ended;
  });

  test('a key sshd does not know is tunnel.auth', async () => {
    const otherKey = path.join(sshd.dir, 'unknown_client_key');
    await generateKey(otherKey);
    const { code, message } = await failureCode({ ...options, privateKeyPath: otherKey });
    assert.equal(code, 'tunnel.auth');
    assert.match(message, new RegExp(`${sshd.user}@127\\.0\\.0\\.1:${sshd.port}`));
  });

  test('a password sshd refuses is tunnel.auth, and the password is never in the message', async () => {
    const password = 'hunter2-secret-value';
    const { code, message } = await failureCode({ host: sshd.host, port: sshd.port, user: sshd.user, password });
    assert.equal(code, 'tunnel.auth');
    assert.doesNotMatch(message, /hunter2/);
  });

  test('a port where no SSH server listens is tunnel.unreachable', async () => {
    const { code, message } = await failureCode({ ...options, port: await freePort() });
    assert.equal(code, 'tunnel.unreachable');
    assert.match(message, /ECONNREFUSED/);
  });

  test('a database port closed on the SSH host is tunnel.unreachable, found before listening', async () => {
    const { code, message } = await failureCode(options, { host: '127.0.0.1', port: await freePort() });
    assert.equal(code, 'tunnel.unreachable');
    assert.match(message, /\[database\] host and port/);
  });

  test('a missing key file is tunnel.key-file', async () => {
    const { code, message } = await failureCode({ ...options, privateKeyPath: path.join(sshd.dir, 'no-such-key') });
    assert.equal(code, 'tunnel.key-file');
    assert.match(message, /ENOENT/);
  });

  test('a public key given as the private key is tunnel.key-file', async () => {
    const { code } = await failureCode({ ...options, privateKeyPath: `${sshd.clientKeyPath}.pub` });
    assert.equal(code, 'tunnel.key-file');
  });

  test('an encrypted key without passphrase is tunnel.key-file; with it, the tunnel opens', async () => {
    const encrypted = path.join(sshd.dir, 'encrypted_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', encrypted]);
    const { code, message } = await failureCode({ ...options, privateKeyPath: encrypted });
    assert.equal(code, 'tunnel.key-file');
    assert.match(message, /set \[tunnel\] passphrase/);
    assert.equal((await failureCode({ ...options, privateKeyPath: encrypted, passphrase: 'wrong' })).code, 'tunnel.key-file');
    await writeFile(path.join(sshd.dir, 'authorized_keys'), `${await readFile(`${encrypted}.pub`, 'utf8')}`, { flag: 'a' });
    const tunnel = await openSshTunnel({ ...options, privateKeyPath: encrypted, passphrase: 'correct horse' }, databaseTarget);
    await tunnel.close();
  });

  describe('known_hosts', () => {
    const knownHostsLine = (key: string): string => `[127.0.0.1]:${sshd.port} ${key}\n`;

    test('the server key listed for [host]:port passes', async () => {
      const file = path.join(sshd.dir, 'known_hosts_right');
      await writeFile(file, `# comment\nother.example ${sshd.hostPublicKey}\n${knownHostsLine(sshd.hostPublicKey)}`);
      const tunnel = await openSshTunnel({ ...options, knownHostsPath: file }, databaseTarget);
      await tunnel.close();
    });

    test('an entry hashed by ssh-keygen -H passes', async () => {
      const file = path.join(sshd.dir, 'known_hosts_hashed');
      await writeFile(file, knownHostsLine(sshd.hostPublicKey));
      await run('ssh-keygen', ['-H', '-f', file]);
      const tunnel = await openSshTunnel({ ...options, knownHostsPath: file }, databaseTarget);
      await tunnel.close();
    });

    test('another key for the host is tunnel.host-key', async () => {
      const file = path.join(sshd.dir, 'known_hosts_wrong');
      const impostor = await generateKey(path.join(sshd.dir, 'impostor_host_key'));
      await writeFile(file, knownHostsLine(impostor));
      const { code, message } = await failureCode({ ...options, knownHostsPath: file });
      assert.equal(code, 'tunnel.host-key');
      assert.match(message, /intercepting/);
    });

    test('a host absent from the file is tunnel.host-key', async () => {
      const file = path.join(sshd.dir, 'known_hosts_other');
      // The right key, but for port 22: OpenSSH keys entries by [host]:port.
      await writeFile(file, `127.0.0.1 ${sshd.hostPublicKey}\n`);
      const { code, message } = await failureCode({ ...options, knownHostsPath: file });
      assert.equal(code, 'tunnel.host-key');
      assert.match(message, /is not in/);
    });

    test('the server key marked @revoked is tunnel.host-key', async () => {
      const file = path.join(sshd.dir, 'known_hosts_revoked');
      await writeFile(file, `${knownHostsLine(sshd.hostPublicKey)}@revoked * ${sshd.hostPublicKey}\n`);
      const { code, message } = await failureCode({ ...options, knownHostsPath: file });
      assert.equal(code, 'tunnel.host-key');
      assert.match(message, /@revoked/);
    });
  });
});
