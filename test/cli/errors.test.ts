import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { insertAccount } from '../helpers/postgres.js';
import { createTestInstance, type TestInstance } from '../helpers/test-instance.js';

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

  test('a missing required key names the key and its environment variable', async () => {
    const config = await instance.writeConfig({ destination: { type: 's3', access_key_id: 'x', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /\[destination\] bucket is required.*MASTODON_S3_SYNC_DESTINATION_BUCKET/);
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
    const config = await instance.writeConfig({ destination: { type: 's3', endpoint: instance.destinationServer.endpoint, bucket: 'absent-bucket', access_key_id: 'S3RVER', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /absent-bucket/);
  });

  test('credentials the storage rejects', async () => {
    const config = await instance.writeConfig({ source: { type: 's3', endpoint: instance.sourceServer.endpoint, bucket: 'old-media', access_key_id: 'WRONGKEY', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /credentials|access key|denied/i);
  });

  test('an unreachable storage endpoint', async () => {
    const config = await instance.writeConfig({ source: { type: 's3', endpoint: 'http://127.0.0.1:1', bucket: 'old-media', access_key_id: 'S3RVER', secret_access_key: 'S3RVER-SECRET' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /127\.0\.0\.1:1/);
  });

  test('a destination directory that does not exist', async () => {
    const config = await instance.writeConfig({ destination: { type: 'fs', path: `${instance.directory}/absent/system` } });
    assertOneLineError(await runCli(['sync', '--config', config]), /absent\/system/);
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
    const config = await instance.writeConfig({ destination: { type: 's3', endpoint: instance.sourceServer.endpoint, region: 'us-east-1', bucket: 'old-media', access_key_id: 'S3RVER', secret_access_key: 'S3RVER' } });
    assertOneLineError(await runCli(['sync', '--config', config]), /same location/);
  });

  test('nothing was written by any failed run', async () => {
    assert.deepEqual(await instance.destinationKeys(), []);
  });
});
