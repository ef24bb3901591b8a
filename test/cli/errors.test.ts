import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { insertAccount, serverSettings } from '../helpers/postgres.js';
import { startS3Proxy, type Fault, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, destinationBucket, type TestInstance } from '../helpers/test-instance.js';

/** A user error: exit 2, one line on stderr naming the problem, no stack, no secret. */
function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
  assert.match(lines[0]!, /^mastodon-s3-sync: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(result.stderr + result.stdout, /hunter2|S3RVER-SECRET/, 'no secret');
}

describe("a mistyped command line is one line in the tool's own shape, naming the help to read, and exit 2", () => {
  for (const [args, line] of [
    [['sync', '--dry-rn'], "unknown option '--dry-rn' (Did you mean --dry-run?): see mastodon-s3-sync sync --help"],
    [['snyc'], "unknown command 'snyc' (Did you mean sync?): see mastodon-s3-sync --help"],
    [['orphans'], "required option '--in <storage>' not specified: see mastodon-s3-sync orphans --help"],
    [['report', '--format', 'xml'], "option '--format <format>' argument 'xml' is invalid. Allowed choices are csv, jsonl: see mastodon-s3-sync report --help"],
    [['sync', '--limit'], "option '--limit <rows>' argument missing: see mastodon-s3-sync sync --help"],
    [['orphans', 'source', '--in', 'source'], "too many arguments for 'orphans'. Expected 0 arguments but got 1: see mastodon-s3-sync orphans --help"],
    [['--config', 'private/config.ini'], "unknown option '--config': see mastodon-s3-sync --help"],
    // --retry-failed reads no rows: a row limit, a new pass or leaving out cache/ would do nothing.
    [['enqueue', '--retry-failed', '--limit', '5'], "option '--retry-failed' cannot be used with option '--limit <rows>': see mastodon-s3-sync enqueue --help"],
    [['enqueue', '--local-only', '--retry-failed'], "option '--retry-failed' cannot be used with option '--local-only': see mastodon-s3-sync enqueue --help"],
  ] as const) {
    test(args.join(' '), async () => {
      const result = await runCli([...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `mastodon-s3-sync: ${line}\n`);
      assert.equal(result.stdout, '');
    });
  }

  test('a dashboard option without --ui, which would serve nothing, is refused before the config is read', async () => {
    for (const [flag, ...value] of [['--ui-port', '8080'], ['--ui-host', '0.0.0.0'], ['--ui-token', 'hunter2'], ['--ui-linger']] as const) {
      const result = await runCli(['sync', '--config', '/nonexistent/config.ini', flag, ...value]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `mastodon-s3-sync: ${flag} does nothing without --ui: add --ui to serve the dashboard, or leave ${flag} out\n`);
    }
  });

  test('--help is no error: the help on stdout, exit 0', async () => {
    const result = await runCli(['verify', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: mastodon-s3-sync verify \[options\] \[jobs\.\.\.\]/);
    assert.equal(result.stderr, '');
  });
});

describe('bad input gets one clear line and exit code 2', () => {
  let instance: TestInstance;

  before(async () => {
    instance = await createTestInstance();
    await insertAccount(instance.database.client, { id: '1', avatar_file_name: 'aaaaaaaaaaaaaaaa.png', avatar_content_type: 'image/png' });
    await instance.seed('accounts/avatars/000/000/001/original/aaaaaaaaaaaaaaaa.png', 'png');
  });
  after(() => instance.close());

  test('an unknown config key is named with its section', async () => {
    const config = await instance.writeConfig({ sync: { concurency: 4 } });
    assertOneLineError(await runCli(['sync', '--config', config]), /\[sync\] unknown key "concurency"/);
  });

  test('an unknown key set by an environment variable names the variable, not the file', async () => {
    const config = await instance.writeConfig();
    const result = await runCli(['sync', '--config', config], { env: { MASTODON_S3_SYNC_SYNC_CONCURENCY: '3' } });
    assertOneLineError(result, /environment variable MASTODON_S3_SYNC_SYNC_CONCURENCY sets an unknown \[sync\] key: unset it or fix its spelling/);
  });

  test('a bad value set by an environment variable names the variable, which the file does not show', async () => {
    const config = await instance.writeConfig();
    const result = await runCli(['status', '--config', config], { env: { MASTODON_S3_SYNC_QUEUE_URL: 'http://10.0.0.1:6379' } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      'mastodon-s3-sync: [queue] url (from MASTODON_S3_SYNC_QUEUE_URL): must be a Redis URL such as redis://10.0.0.1:6379 (or redis://10.0.0.1:6379/2 for database 2)\n',
    );
  });

  test('a misspelled section is one line that suggests the section it misses', async () => {
    const config = await instance.writeConfig({ destination: null, destinaton: { type: 'fs', path: instance.directory } });
    assertOneLineError(
      await runCli(['sync', '--config', config]),
      /config: unknown section \[destinaton\]: did you mean \[destination\]\? The sections are \[database\], \[source\], \[destination\]/,
    );
  });

  test('a # or ; inside a value is refused without showing the value, and quoting it works', async () => {
    const password = await instance.writeConfig({ database: { host: '127.0.0.1', user: 'mastodon', password: 'hunter2#cd;ef', name: 'mastodon' } });
    assertOneLineError(
      await runCli(['sync', '--config', password]),
      /line \d+: \[database\] password would be cut at its # \(# and ; start a comment in an INI file\): put the value in double quotes, password = "…"/,
    );

    const folder = path.join(instance.directory, 'media#1');
    await mkdir(folder);
    const unquoted = await instance.writeConfig({ destination: { type: 'fs', path: folder } }, 'unquoted.ini');
    assertOneLineError(await runCli(['sync', '--config', unquoted]), /\[destination\] path would be cut at its #/);
    const quoted = await instance.writeConfig({ destination: { type: 'fs', path: JSON.stringify(folder) } }, 'quoted.ini');
    const result = await runCli(['sync', '--config', quoted, '--no-state']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(folder, 'accounts/avatars/000/000/001/original/aaaaaaaaaaaaaaaa.png'), 'utf8'), 'png');
  });

  test('a config file saved with a byte-order mark (Windows Notepad) reads as any other', async () => {
    const config = await instance.writeConfig();
    await writeFile(config, `\uFEFF${await readFile(config, 'utf8')}`);
    const result = await runCli(['keys', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'accounts/avatars/000/000/001/original/aaaaaaaaaaaaaaaa.png\n');
  });

  test('true, false and null are values like any other: a database password "true" is a password, not a type error', async () => {
    const { host, port, user } = serverSettings();
    for (const password of ['true', '"false"', 'null']) {
      const config = await instance.writeConfig({ database: { host, port, user, password, name: instance.database.name } }, 'password-true.ini');
      const result = await runCli(['keys', '--config', config]);
      assert.equal(result.code, 0, `${password}: ${result.stderr}`);
      assert.equal(result.stdout, 'accounts/avatars/000/000/001/original/aaaaaaaaaaaaaaaa.png\n');
    }
  });

  test('a comment after a space still ends a value', async () => {
    const config = await instance.writeConfig({ sync: { concurrency: '16 ; plenty', acl: 'world-readable' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /\[sync\] acl: must be public-read, private or none/);
  });

  for (const [problem, url] of [
    ['a / in the password', 'postgres://mastodon:hunter2/x@127.0.0.1:5432/mastodon'],
    ['a # in the password', 'postgres://mastodon:hunter2#x@127.0.0.1:5432/mastodon'],
    ['a port that is not a number', 'postgres://mastodon:hunter2@127.0.0.1:notaport/mastodon'],
    ['a percent-escape that is no character (new URL takes it, pg does not)', 'postgres://mastodon:hunter2%C3@127.0.0.1:5432/mastodon'],
  ]) {
    test(`a database url with ${problem} says how to write it, without showing it`, async () => {
      const config = await instance.writeConfig({ database: { url: JSON.stringify(url) } });
      assertOneLineError(
        await runCli(['sync', '--config', config]),
        /\[database\] url: not a valid URL: percent-encode special characters in the password \(# as %23, \/ as %2F, @ as %40\), or use host, port, user, password and name instead$/,
      );
    });
  }

  test('--config naming the default path on a fresh clone says to copy the sample', async () => {
    assertOneLineError(
      await runCli(['sync', '--config', 'private/config.ini'], { cwd: instance.directory }),
      /no config file at private\/config\.ini: copy private\/config\.sample\.ini to private\/config\.ini/,
    );
    assertOneLineError(await runCli(['sync', '--config', 'elsewhere.ini'], { cwd: instance.directory }), /config file elsewhere\.ini does not exist: check --config/);
  });

  test('a missing required key names the key and its environment variable', async () => {
    const config = await instance.writeConfig({ destination: { type: 's3', access_key_id: 'x', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /\[destination\] bucket is required.*MASTODON_S3_SYNC_DESTINATION_BUCKET/);
  });

  test('a bad storage type, or a key another one makes required, is one line that names the key once', async () => {
    for (const [sections, line] of [
      [{ source: { type: 'ftp', path: instance.directory } }, '[source] type: must be s3 or fs'],
      [{ destination: { path: instance.directory } }, '[destination] type: must be s3 or fs'],
      [{ database: { host: '127.0.0.1' } }, '[database] name: required when there is no url (set url, or name with host, port, user and password)'],
      [{ tunnel: { host: 'db.example', private_key_path: '/keys/id_ed25519' } }, '[tunnel] user: required with host (the SSH login on the tunnel host)'],
      [{ tunnel: { host: 'db.example', user: 'mastodon' } }, '[tunnel] private_key_path: required with host, unless password is set (how to log in to the tunnel host)'],
    ] as const) {
      const result = await runCli(['sync', '--config', await instance.writeConfig(sections, 'required.ini')]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `mastodon-s3-sync: ${line}\n`);
    }
  });

  test('a bad endpoint URL is rejected before anything runs', async () => {
    const config = await instance.writeConfig({ source: { type: 's3', endpoint: 'not a url', bucket: 'b', access_key_id: 'x', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /\[source\] endpoint: must be a URL/);
  });

  test('an environment variable wins over the file', async () => {
    const config = await instance.writeConfig();
    const result = await runCli(['sync', '--config', config], { env: { MASTODON_S3_SYNC_DESTINATION_BUCKET: 'no-such-bucket' } });
    assertOneLineError(result, /no-such-bucket/);
  });

  test('the config path can come from MASTODON_S3_SYNC_CONFIG', async () => {
    const config = await instance.writeConfig({ sync: { acl: 'world-readable' } }, 'from-env.ini');
    assertOneLineError(await runCli(['sync'], { env: { MASTODON_S3_SYNC_CONFIG: config } }), /\[sync\] acl: must be public-read, private or none/);
  });

  test('an unreachable database', async () => {
    const config = await instance.writeConfig({ database: { url: 'postgres://mastodon:hunter2@127.0.0.1:1/mastodon' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /cannot reach PostgreSQL at 127\.0\.0\.1:1/);
  });

  test('a database that does not exist', async () => {
    const config = await instance.writeConfig({ database: { url: 'postgres://postgres:hunter2@127.0.0.1:5432/no_such_database_here' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /no_such_database_here/);
  });

  test('a missing destination bucket on the server', async () => {
    const config = await instance.writeConfig({ destination: s3Section(instance.destinationServer.endpoint, 'absent-bucket', { secret_access_key: 'S3RVER-SECRET' }) });
    assertOneLineError(await runCli(['sync', '--config', config]), /: \[destination\] bucket "absent-bucket" does not exist at /);
  });

  test('credentials the storage rejects', async () => {
    const config = await instance.writeConfig({ source: { type: 's3', endpoint: instance.sourceServer.endpoint, bucket: 'old-media', access_key_id: 'WRONGKEY', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /: \[source\] access denied when trying to reach bucket "old-media" .*check "access_key_id" and "secret_access_key"/);
  });

  test('an unreachable storage endpoint', async () => {
    const config = await instance.writeConfig({ source: s3Section('http://127.0.0.1:1', 'old-media', { secret_access_key: 'S3RVER-SECRET' }) });
    assertOneLineError(await runCli(['sync', '--config', config]), /: \[source\] cannot reach http:\/\/127\.0\.0\.1:1 for bucket "old-media"/);
  });

  test('a destination directory that does not exist', async () => {
    const config = await instance.writeConfig({ destination: { type: 'fs', path: `${instance.directory}/absent/system` } });
    assertOneLineError(await runCli(['sync', '--config', config]), /: \[destination\] directory .*absent\/system does not exist/);
  });

  test('a count option that is no whole number, past what a number holds exactly, or past its own limit, is one line', async () => {
    const config = await instance.writeConfig();
    for (const [command, flag, value, max] of [
      ['sync', '--limit', '0', '9007199254740991'],
      ['keys', '--limit', 'all', '9007199254740991'],
      ['keys', '--limit', '100000000000000000000', '9007199254740991'],
      ['sync', '--limit', '9007199254740993', '9007199254740991'],
      ['verify', '--limit', '1e300', '9007199254740991'],
      ['sync', '--concurrency', '2.5', '1024'],
      ['sync', '--concurrency', '5000', '1024'],
      ['worker', '--concurrency', '1025', '1024'],
      // verify's listings in flight: each is cut into ranges at the id quantiles of one query, which a huge count would swamp.
      ['verify', '--concurrency', '5000', '1024'],
      ['sync', '--grace-period', '3000000', '86400'],
    ] as const) {
      const result = await runCli([command, '--config', config, flag, value]);
      assertOneLineError(result, new RegExp(`: ${flag} must be a whole number greater than 0 \\(at most ${max}\\), not "${value.replaceAll('.', '\\.')}"$`));
    }
  });

  test('a source directory that does not exist is to be corrected, not created', async () => {
    const config = await instance.writeConfig({ source: { type: 'fs', path: `${instance.directory}/typo/system` } });
    assertOneLineError(await runCli(['sync', '--config', config]), /: \[source\] directory .*typo\/system does not exist \(ENOENT\): correct "path" \(Mastodon's public\/system, PAPERCLIP_ROOT_PATH\)$/);
  });

  test('an unknown job', async () => {
    const config = await instance.writeConfig();
    assertOneLineError(await runCli(['sync', 'avatars', '--config', config]), /unknown job "avatars"/);
  });

  test('a job whose table this database lacks', async () => {
    const config = await instance.writeConfig();
    assertOneLineError(await runCli(['sync', 'imports', '--config', config]), /no imports table/);
  });

  test('the same location as source and destination', async () => {
    const config = await instance.writeConfig({ destination: s3Section(instance.sourceServer.endpoint, 'old-media') });
    assertOneLineError(await runCli(['sync', '--config', config]), /same location/);
  });

  test('a dashboard that other machines could reach without a token is refused before anything is opened', async () => {
    // The database is unreachable too: the dashboard's refusal has to come first, before any connection.
    const config = await instance.writeConfig({ database: { url: 'postgres://mastodon:hunter2@127.0.0.1:1/mastodon' } }, 'open-dashboard.ini');
    assertOneLineError(
      await runCli(['sync', '--config', config, '--ui', '--ui-host', '0.0.0.0']),
      /: the dashboard would listen on 0\.0\.0\.0, which other machines can reach: pass --ui-token TOKEN/,
    );
  });

  test('a dashboard port in use is one line, with no run announced before it', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const { port } = taken.address() as AddressInfo;
      const config = await instance.writeConfig();
      const result = await runCli(['sync', '--config', config, '--ui', '--ui-port', String(port)]);
      assertOneLineError(result, new RegExp(`: the dashboard cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use; pass --ui-port`));
      assert.equal(result.stdout, '');
    } finally {
      taken.close();
    }
  });

  test('nothing was written by any failed run', async () => {
    assert.deepEqual(await instance.destinationKeys(), []);
  });
});

describe("a destination that refuses the run's ACL or storage class stops the run at its check, before any object", () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  const avatar = 'accounts/avatars/000/000/001/original/aaaaaaaaaaaaaaaa.png';

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.destinationServer.endpoint);
    await insertAccount(instance.database.client, { id: '1', avatar_file_name: 'aaaaaaaaaaaaaaaa.png', avatar_content_type: 'image/png' });
    await instance.seed(avatar, 'png');
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  const behindProxy = (sync: Record<string, string>, name: string): Promise<string> =>
    instance.writeConfig({ destination: s3Section(proxy.endpoint, destinationBucket), sync }, name);
  /** PUTs whose `header` passes `refused` meet `fault`; everything else reaches s3rver. */
  const refusing = (fault: Fault, header: string, refused: (value: string) => boolean = () => true): void =>
    proxy.setFaults({ choose: (request) => (request.method === 'PUT' && typeof request.headers[header] === 'string' && refused(request.headers[header]) ? fault : undefined) });

  test('Cloudflare R2 (501 for x-amz-acl): one line naming acl = none, and with it the run goes through', async () => {
    refusing('not-implemented', 'x-amz-acl');
    assertOneLineError(
      await runCli(['sync', 'accounts', '--config', await behindProxy({}, 'r2.ini')]),
      /\[destination\] bucket "new-media" at .* refuses per-object ACLs \(501 NotImplemented.*\): set acl = none in \[sync\]/,
    );
    assert.deepEqual(await instance.destinationKeys(), [], 'nothing written, no probe left behind');
    const result = await runCli(['sync', 'accounts', '--config', await behindProxy({ acl: 'none' }, 'r2-none.ini')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await instance.destinationObject(avatar))?.body.toString(), 'png');
  });

  test('a bucket taking public-read but refusing private (backups, suspended accounts) is caught too, and its probe is deleted', async () => {
    refusing('not-implemented', 'x-amz-acl', (value) => value === 'private');
    assertOneLineError(await runCli(['sync', 'accounts', '--config', await behindProxy({}, 'private-refused.ini'), '--no-state']), /refuses per-object ACLs \(501 NotImplemented.*'private'.*\): set acl = none/);
    assert.deepEqual(await instance.destinationKeys(), [avatar]);
  });

  test('an S3 bucket with ACLs disabled (400 AccessControlListNotSupported): the same line', async () => {
    refusing('acls-disabled', 'x-amz-acl');
    assertOneLineError(await runCli(['sync', 'accounts', '--config', await behindProxy({ acl: 'private' }, 'aws.ini')]), /refuses per-object ACLs \(400 AccessControlListNotSupported.*\): set acl = none in \[sync\]/);
  });

  test('a storage class the provider lacks: one line naming storage_class', async () => {
    refusing('not-implemented', 'x-amz-storage-class');
    assertOneLineError(
      await runCli(['sync', 'accounts', '--config', await behindProxy({ acl: 'none', storage_class: 'STANDARD_IA' }, 'class.ini')]),
      /\[destination\] bucket "new-media" at .* refuses the storage class \(501 NotImplemented.*\): remove storage_class from \[sync\], or set one this provider offers/,
    );
    proxy.setFaults(undefined);
  });
});
