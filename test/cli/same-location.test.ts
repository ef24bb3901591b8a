import assert from 'node:assert/strict';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertAccount } from '../helpers/postgres.js';
import { listTestKeys } from '../helpers/s3-server.js';
import { createTestInstance, s3Section, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

const same = 'mastodon-s3-sync: [source] and [destination] are the same location: point [destination] at the new storage';
const inside =
  "mastodon-s3-sync: [destination] lies inside [source] (the same bucket under the source's prefix, or a folder of the source's directory), and this tool never writes to the source: point [destination] at another bucket, prefix or directory";

describe('a destination that is the source, however it is spelt, is refused before anything is written', () => {
  let instance: TestInstance;
  const avatar = 'accounts/avatars/000/000/001/original/a1a2a3a4a5a6a7a8.png';

  before(async () => {
    instance = await createTestInstance();
    await insertAccount(instance.database.client, { id: '1', avatar_file_name: 'a1a2a3a4a5a6a7a8.png', avatar_content_type: 'image/png' });
    await instance.seed(avatar, 'avatar bytes');
  });
  after(async () => {
    await instance.close();
  });

  const s3Source = (overrides: Record<string, string> = {}): Record<string, string> => s3Section(instance.sourceServer.endpoint, sourceBucket, overrides);

  test('the same bucket through another spelling of its endpoint, other credentials or a prefix inside the source', async () => {
    const port = new URL(instance.sourceServer.endpoint).port;
    const cases: [string, Record<string, string>, Record<string, string>, string][] = [
      ['trailing slash', s3Source(), s3Source({ endpoint: `${instance.sourceServer.endpoint}/` }), same],
      ['localhost, other keys, explicit path style', s3Source(), s3Source({ endpoint: `http://LOCALHOST:${port}`, access_key_id: 'OTHER', secret_access_key: 'OTHER', force_path_style: 'true' }), same],
      ['a leading slash on the prefix', s3Source({ prefix: 'media' }), s3Source({ prefix: '/media' }), same],
      ['a prefix under the whole-bucket source', s3Source(), s3Source({ prefix: 'copy' }), inside],
      ['a prefix under the source prefix', s3Source({ prefix: 'media' }), s3Source({ prefix: 'media/copy' }), inside],
    ];
    const before = await listTestKeys(instance.source, sourceBucket);
    for (const [name, source, destination, message] of cases) {
      const config = await instance.writeConfig({ source, destination }, `${name.replaceAll(' ', '-')}.ini`);
      const result = await runCli(['sync', '--config', config, '--no-state']);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), message, name);
    }
    assert.deepEqual(await listTestKeys(instance.source, sourceBucket), before, 'the source is untouched');
  });

  test('another prefix beside the source prefix in the same bucket is a place of its own', async () => {
    const sibling = await instance.writeConfig({ source: s3Source({ prefix: 'old' }), destination: s3Source({ prefix: 'new' }) }, 'sibling-prefixes.ini');
    // A source prefix holding none of the objects would fail the run for that reason instead.
    await instance.seed(`old/${avatar}`, 'avatar bytes');
    const result = await runCli(['sync', '--config', sibling, '--no-state', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
  });

  test('directories: a trailing slash, a symlink or a folder inside the source tree', async () => {
    const root = path.join(instance.directory, 'public-system');
    await mkdir(path.join(root, 'accounts'), { recursive: true });
    const link = path.join(instance.directory, 'link-to-system');
    await symlink(root, link);
    const cases: [string, Record<string, string>, string][] = [
      ['trailing slash', { type: 'fs', path: `${root}/` }, same],
      ['symlink', { type: 'fs', path: link }, same],
      ['sub-folder by prefix', { type: 'fs', path: root, prefix: 'copy' }, inside],
      ['folder inside, not yet made', { type: 'fs', path: path.join(root, 'new', 'system') }, inside],
    ];
    for (const [name, destination, message] of cases) {
      const config = await instance.writeConfig({ source: { type: 'fs', path: root }, destination }, `fs-${name.replaceAll(' ', '-')}.ini`);
      const result = await runCli(['sync', '--config', config, '--no-state']);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), message, name);
    }
    assert.deepEqual(await readdir(root), ['accounts'], 'nothing made in the source tree');
  });
});
