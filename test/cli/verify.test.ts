import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, runCliPiped, startCli } from '../helpers/cli.js';
import { insertAccount, insertMediaAttachment } from '../helpers/postgres.js';
import { isCheckListing, startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { putTestObject } from '../helpers/s3-server.js';
import { createTestInstance, s3Section, destinationBucket, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

describe('verify: every referenced key at the destination, with the source size and MD5; read-only', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let config: string;
  const avatar = 'accounts/avatars/000/000/001/original/avatar0avatar000.png';
  const header = 'accounts/headers/000/000/001/original/header0header000.jpg';
  const media = 'media_attachments/files/000/000/010/original/media0media0media.jpeg';
  const small = 'media_attachments/files/000/000/010/small/media0media0media.jpeg';
  const remote = 'cache/accounts/avatars/109/283/929/999/999/999/original/remote0remote000.png';

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.destinationServer.endpoint);
    const db = instance.database.client;
    await insertAccount(db, { id: '1', avatar_file_name: 'avatar0avatar000.png', avatar_content_type: 'image/png', header_file_name: 'header0header000.jpg', header_content_type: 'image/jpeg' });
    // In neither storage: accounts/avatars/000/000/002/original/lost0lost0lost00.png
    await insertAccount(db, { id: '2', avatar_file_name: 'lost0lost0lost00.png', avatar_content_type: 'image/png' });
    await insertAccount(db, {
      id: '109283929999999999',
      domain: 'remote.example',
      avatar_file_name: 'remote0remote000.png',
      avatar_content_type: 'image/png',
      avatar_storage_schema_version: 1,
    });
    await insertMediaAttachment(db, { id: '10', file_file_name: 'media0media0media.jpeg', file_content_type: 'image/jpeg' });
    for (const [key, body] of [
      [avatar, 'avatar bytes'],
      [header, 'header bytes'],
      [media, 'media bytes, original'],
      [small, 'media bytes, small'],
      // The remote avatar is in the source only under the other cache/ variant.
      [remote.replace(/^cache\//, ''), 'remote avatar'],
    ] as const) {
      await instance.seed(key, body);
    }
    config = await instance.writeConfig({
      destination: s3Section(proxy.endpoint, destinationBucket),
    });
    const sync = await runCli(['sync', '--config', config]);
    assert.equal(sync.code, 0, sync.stderr);
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('a complete destination verifies, exit 0; a key in neither storage is counted, not blamed', async () => {
    const result = await runCli(['verify', '--config', config]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^job\s+keys\s+ok\s+missing\s+differs\s+not in source$/m);
    assert.match(result.stdout, /^accounts\s+4\s+3\s+0\s+0\s+1$/m);
    assert.match(result.stdout, /^media_attachments\s+2\s+2\s+0\s+0\s+0$/m);
    assert.match(result.stdout, /^total\s+6\s+5\s+0\s+0\s+1$/m);
    assert.match(result.stderr, /^verified: every referenced object the source has is in s3:\/\/new-media at .* with the same size \(and MD5 where both ETags are single-part\)$/m);
  });

  test('a [source] that holds none of the referenced keys (a wrong prefix) is one line and exit 2, not a pass', async () => {
    const source = s3Section(instance.sourceServer.endpoint, sourceBucket, { prefix: 'elsewhere' });
    // The destination holding every key does not make it a pass; nor does an empty one.
    const emptyDirectory = await mkdtemp(path.join(tmpdir(), 'mss-verify-empty-'));
    try {
      const destinations: Record<string, string>[] = [
        s3Section(proxy.endpoint, destinationBucket),
        { type: 'fs', path: emptyDirectory },
      ];
      for (const destination of destinations) {
        const wrongPrefix = await instance.writeConfig({ source, destination }, 'wrong-prefix.ini');
        const result = await runCli(['verify', 'accounts', '--config', wrongPrefix]);
        assert.equal(result.code, 2, result.stdout + result.stderr);
        assert.equal(
          result.stderr.trim().split('\n').at(-1),
          `mastodon-s3-sync: [source] s3://${sourceBucket}/elsewhere at ${instance.sourceServer.endpoint} holds none of the 4 objects the database references: check its bucket and prefix (Mastodon's S3_KEY_PREFIX); nothing was verified`,
        );
        assert.doesNotMatch(result.stderr, /verified:/);
        // A table would count the destination's keys as ok, although none was compared.
        assert.equal(result.stdout, '');
      }
    } finally {
      await rm(emptyDirectory, { recursive: true, force: true });
    }
  });

  test('a deleted, a truncated and a changed destination object: exit 1, each named', async () => {
    await instance.destination.send(new DeleteObjectCommand({ Bucket: destinationBucket, Key: header }));
    await putTestObject(instance.destination, destinationBucket, media, 'short');
    await putTestObject(instance.destination, destinationBucket, avatar, 'AVATAR BYTES');
    const result = await runCli(['verify', '--config', config]);
    assert.equal(result.code, 1, result.stderr);
    const problems = result.stdout.split('\n').filter((line) => /^(missing|size differs|md5 differs) /.test(line));
    assert.deepEqual(problems.sort(), [
      `md5 differs   ${avatar} (source ${md5('avatar bytes')}, destination ${md5('AVATAR BYTES')})`,
      `missing       ${header} (12 B in the source)`,
      `size differs  ${media} (source 21 bytes, destination 5 bytes)`,
    ]);
    assert.match(result.stderr, /3 objects missing or different in .*: sync --inventory copies again what changed at the destination, sync --no-state also what changed in the source/);
  });

  test('a reader that has gone (verify | true): still exit 1 for the problems, no trace', async () => {
    const result = await runCliPiped(['verify', '--config', config], 'true');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /3 objects missing or different in .*: sync --inventory copies again what changed at the destination, sync --no-state also what changed in the source/);
    assert.doesNotMatch(result.stderr, /EPIPE|\n\s+at /);
  });

  test('--json: one line per problem, then the counts', async () => {
    const result = await runCli(['verify', 'accounts', '--config', config, '--json']);
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      lines.slice(0, -1).map((line) => [line['problem'], line['key']]),
      [
        ['md5-differs', avatar],
        ['missing', header],
      ],
    );
    assert.deepEqual(lines.at(-1), { verify: [{ job: 'accounts', keys: 4, ok: 1, missing: 1, differs: 1, notInSource: 1, inSource: 3 }], problems: 2 });
  });

  test('verify writes nothing: no PUT, POST or DELETE at the destination, and the state file is untouched', async () => {
    const stateFile = path.join(path.dirname(config), 'state.sqlite');
    const before = createHash('sha256').update(await readFile(stateFile)).digest('hex');
    const start = proxy.requests.length;
    await runCli(['verify', '--config', config]);
    const sent = proxy.requests.slice(start);
    assert.ok(sent.length > 0);
    assert.deepEqual(
      sent.filter((request) => request.method !== 'GET' && request.method !== 'HEAD'),
      [],
    );
    assert.ok(sent.every((request) => request.method === 'HEAD' || /list-type=2/.test(request.query)), 'a bucket check and listings only');
    assert.equal(createHash('sha256').update(await readFile(stateFile)).digest('hex'), before);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} during verify: exit 130, and its scratch files leave the temporary directory with it`, async () => {
      const scratch = await mkdtemp(path.join(tmpdir(), 'mss-verify-tmp-'));
      let release = (): void => undefined;
      // The destination's listing waits until the test is done with it: verify is mid-run, its scratch index open.
      proxy.setFaults({ choose: (request) => (/list-type=2/.test(request.query) && !isCheckListing(request) ? { until: new Promise((resolve) => (release = () => resolve(undefined))) } : undefined) });
      try {
        const verify = startCli(['verify', '--config', config], { env: { TMPDIR: scratch } });
        await waitFor(() => /keys referenced; listing/.test(verify.output().stderr));
        assert.notDeepEqual(await readdir(scratch), [], 'the scratch index is open');
        verify.child.kill(signal);
        const result = await verify.result;
        assert.equal(result.code, 130, result.stderr);
        assert.deepEqual(await readdir(scratch), []);
      } finally {
        proxy.setFaults(undefined);
        release();
        await rm(scratch, { recursive: true, force: true });
      }
    });
  }

  test('sync --inventory repairs what verify found, and verify agrees', async () => {
    const repair = await runCli(['sync', '--config', config, '--inventory']);
    assert.equal(repair.code, 0, repair.stderr);
    const result = await runCli(['verify', '--config', config]);
    assert.equal(result.code, 0, result.stdout);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the CLI');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
