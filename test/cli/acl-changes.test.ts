import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { createStatusesTable, insertAccount, insertMediaAttachment, insertStatus, utcTimestamp } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, destinationBucket, jobSummary, type TestInstance } from '../helpers/test-instance.js';

/**
 * Mastodon makes the media of an account private when it suspends it (and public again when the
 * suspension is lifted), and the media of a soft-deleted status private, by changing the objects'
 * ACLs: the media rows stay as they are. A copy made before must follow.
 */
describe('ACL changes after a copy: suspensions, their lifting, deleted statuses', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let config: string;
  const owners = new Map<string, string[]>();
  let statusId = '';

  /** An account with one image (original and small), both objects seeded in the source. */
  async function accountWithMedia(name: string, columns: Record<string, unknown> = {}, statusOf?: (account: string) => Promise<string>): Promise<string> {
    const account = await insertAccount(instance.database.client, columns);
    const status = statusOf === undefined ? {} : { status_id: await statusOf(account) };
    const media = await insertMediaAttachment(instance.database.client, { account_id: account, file_file_name: `${name}.png`, file_content_type: 'image/png', ...status });
    const partition = media.padStart(18, '0').match(/\d{3}/g)!.join('/');
    const keys = ['original', 'small'].map((style) => `media_attachments/files/${partition}/${style}/${name}.png`);
    for (const key of keys) await instance.seed(key, `bytes of ${key}`, { contentType: 'image/png' });
    owners.set(name, keys);
    return account;
  }

  /** Runs sync and returns the x-amz-acl of each object it wrote to the destination. */
  async function sync(...args: string[]): Promise<Awaited<ReturnType<typeof runCli>> & { written: Map<string, string | undefined> }> {
    const start = proxy.requests.length;
    const result = await runCli(['sync', 'media_attachments', '--config', config, '--json', ...args]);
    const written = new Map(
      proxy.requests
        .slice(start)
        .filter((request) => request.method === 'PUT' && request.path.startsWith(`/${destinationBucket}/media_attachments/`))
        .map((request) => [decodeURIComponent(request.path.slice(destinationBucket.length + 2)), request.headers['x-amz-acl'] as string | undefined]),
    );
    return { ...result, written };
  }

  const now = (): string => utcTimestamp(new Date());
  const aclOf = (names: string[], acl: string): Map<string, string> => new Map(names.flatMap((name) => owners.get(name)!.map((key) => [key, acl])));

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.destinationServer.endpoint);
    config = await instance.writeConfig({ destination: s3Section(proxy.endpoint, destinationBucket) });
    await createStatusesTable(instance.database.client);
    await accountWithMedia('alice0000000000a');
    await accountWithMedia('bob0000000000000', { suspended_at: '2024-01-01' });
    await accountWithMedia('carol00000000000', {}, async (account) => (statusId = await insertStatus(instance.database.client, { account_id: account })));
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('the first copy writes each object with the ACL Mastodon gave it', async () => {
    const run = await sync();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.written, new Map([...aclOf(['alice0000000000a', 'carol00000000000'], 'public-read'), ...aclOf(['bob0000000000000'], 'private')]));
  });

  test('an account suspended since, and a status deleted since: a delta run writes their media again, private, with the same bytes', async () => {
    await instance.database.client.query('UPDATE accounts SET suspended_at = $1, updated_at = $1 WHERE id = (SELECT account_id FROM media_attachments WHERE file_file_name = $2)', [now(), 'alice0000000000a.png']);
    await instance.database.client.query('UPDATE statuses SET deleted_at = $1, updated_at = $1 WHERE id = $2', [now(), statusId]);
    const run = await sync('--since', 'last');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.written, aclOf(['alice0000000000a', 'carol00000000000'], 'private'));
    assert.equal(jobSummary(run.stdout, 'media_attachments')['copied'], 4);
    for (const key of owners.get('alice0000000000a')!) {
      const object = await instance.destinationObject(key);
      assert.equal(object?.body.toString(), `bytes of ${key}`);
      assert.equal(object?.contentType, 'image/png');
    }
  });

  test('once written private, later runs (delta or full) leave them alone', async () => {
    const delta = await sync('--since', 'last');
    assert.equal(delta.code, 0, delta.stderr);
    assert.deepEqual(delta.written, new Map());
    const full = await sync();
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(full.written, new Map());
    assert.equal(jobSummary(full.stdout, 'media_attachments')['skipped'], 6);
  });

  test('a lifted suspension makes the media public again, in a full run too', async () => {
    await instance.database.client.query('UPDATE accounts SET suspended_at = NULL, updated_at = $1 WHERE id = (SELECT account_id FROM media_attachments WHERE file_file_name = $2)', [now(), 'bob0000000000000.png']);
    const run = await sync();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.written, aclOf(['bob0000000000000'], 'public-read'));
  });

  test('without a state file, what Mastodon keeps private is written again (its ACL cannot be read back), the rest is skipped', async () => {
    const run = await sync('--no-state');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.written, aclOf(['alice0000000000a', 'carol00000000000'], 'private'));
    const summary = jobSummary(run.stdout, 'media_attachments');
    assert.deepEqual({ copied: summary['copied'], skipped: summary['skipped'] }, { copied: 4, skipped: 2 });
  });

  test('acl = none: nothing is written again for an ACL', async () => {
    const noAcl = await instance.writeConfig(
      { destination: s3Section(proxy.endpoint, destinationBucket), sync: { acl: 'none' } },
      'acl-none.ini',
    );
    const start = proxy.requests.length;
    const run = await runCli(['sync', 'media_attachments', '--config', noAcl, '--no-state', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(proxy.requests.slice(start).filter((request) => request.method === 'PUT' && request.path.includes('/media_attachments/')).length, 0);
    assert.equal(jobSummary(run.stdout, 'media_attachments')['skipped'], 6);
  });
});
