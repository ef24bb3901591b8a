import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';

describe('the journal (SQLite state file)', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'mss-journal-'));
  });
  after(() => rm(directory, { recursive: true, force: true }));
  const file = (name: string): string => path.join(directory, name);

  test('outcomes survive a reopen, and each source → destination pair has its own', () => {
    const journal = Journal.open(file('pairs.sqlite'));
    const first = journal.scope('s3://old at A', 's3://new at B')!;
    const other = journal.scope('s3://old at A', 's3://elsewhere at C')!;
    first.record({ job: 'accounts', key: 'accounts/a.png', outcome: 'copied', size: 10, attempts: 1 });
    first.record({ job: 'accounts', key: 'accounts/b.png', outcome: 'failed', reason: '403 Forbidden', attempts: 1 });
    journal.close();

    const again = Journal.open(file('pairs.sqlite'));
    const reopened = again.scope('s3://old at A', 's3://new at B')!;
    assert.equal(reopened.id, first.id);
    assert.deepEqual(
      [...reopened.entries(['copied'])].map((entry) => ({ ...entry, updatedAt: 0, run: null })),
      [{ job: 'accounts', key: 'accounts/a.png', outcome: 'copied', reason: null, attempts: 1, size: 10, etag: null, foundAt: null, acl: null, run: null, updatedAt: 0 }],
    );
    assert.equal(reopened.outcomes(['accounts/b.png']).get('accounts/b.png')?.reason, '403 Forbidden');
    assert.equal(again.scope('s3://old at A', 's3://elsewhere at C')!.outcomes(['accounts/a.png']).size, 0, 'another destination inherits nothing');
    assert.notEqual(other.id, first.id);
    assert.deepEqual(
      again.scopes().map((scope) => scope.destination),
      ['s3://new at B', 's3://elsewhere at C'],
    );
    again.close();
  });

  test('outcomes are written in batches, not one transaction each', () => {
    const journal = Journal.open(file('batches.sqlite'), { batchSize: 3, flushIntervalMs: 60_000 });
    const scope = journal.scope('a', 'b')!;
    const reader = Journal.open(file('batches.sqlite'), { readonly: true });
    const seen = (): number => reader.scope('a', 'b')!.counts().reduce((sum, count) => sum + count.objects, 0);
    scope.record({ job: 'accounts', key: 'k1', outcome: 'copied', size: 1 });
    scope.record({ job: 'accounts', key: 'k2', outcome: 'copied', size: 1 });
    assert.equal(seen(), 0, 'two outcomes wait in the buffer');
    scope.record({ job: 'accounts', key: 'k3', outcome: 'copied', size: 1 });
    assert.equal(seen(), 3, 'the third fills the batch');
    scope.record({ job: 'accounts', key: 'k4', outcome: 'skipped', size: 1 });
    journal.close();
    assert.equal(seen(), 4, 'close flushes the rest');
    reader.close();
  });

  test('a later outcome of a key replaces the earlier one', () => {
    const journal = Journal.open(file('replace.sqlite'));
    const scope = journal.scope('a', 'b')!;
    scope.record({ job: 'media_attachments', key: 'm', outcome: 'failed', reason: '503 SlowDown (after 5 attempts)', attempts: 5 });
    scope.flush();
    scope.record({ job: 'media_attachments', key: 'm', outcome: 'copied', size: 42, attempts: 1 });
    scope.flush();
    assert.deepEqual([...scope.entries(['failed'])], []);
    assert.deepEqual(
      scope.counts().map(({ job, outcome, objects, bytes }) => ({ job, outcome, objects, bytes })),
      [{ job: 'media_attachments', outcome: 'copied', objects: 1, bytes: 42 }],
    );
    journal.close();
  });

  test('runs: completed full runs, and --since last per job with the oldest mark', () => {
    const journal = Journal.open(file('runs.sqlite'));
    const scope = journal.scope('a', 'b')!;
    assert.equal(scope.sinceLast(['accounts'], false), undefined);
    const partial = scope.beginRun({ jobs: ['accounts'], kind: 'partial', localOnly: false, sinceMark: 1000 });
    scope.endRun(partial, 'completed');
    assert.equal(scope.hasCompletedFullRun('accounts'), false, 'a --limit run covers only part');
    assert.equal(scope.sinceLast(['accounts'], false), undefined);

    const full = scope.beginRun({ jobs: ['accounts', 'media_attachments'], kind: 'full', localOnly: false, sinceMark: 2000 });
    scope.endRun(full, 'completed');
    const interrupted = scope.beginRun({ jobs: ['accounts'], kind: 'full', localOnly: false, sinceMark: 3000 });
    scope.endRun(interrupted, 'interrupted');
    const delta = scope.beginRun({ jobs: ['accounts'], kind: 'delta', localOnly: false, sinceMark: 4000 });
    scope.endRun(delta, 'completed');
    assert.equal(scope.hasCompletedFullRun('accounts'), true);
    assert.equal(scope.hasCompletedFullRun('custom_emojis'), false);
    assert.equal(scope.sinceLast(['accounts'], false), 4000, 'the latest completed delta run of the job');
    assert.equal(scope.sinceLast(['accounts', 'media_attachments'], false), 2000, 'the oldest of the jobs’ marks');
    assert.equal(scope.sinceLast(['custom_emojis'], false), undefined);

    const localOnly = scope.beginRun({ jobs: ['media_attachments'], kind: 'delta', localOnly: true, sinceMark: 5000 });
    scope.endRun(localOnly, 'completed');
    assert.equal(scope.sinceLast(['media_attachments'], false), 2000, 'a local-only run does not cover cache/ keys');
    assert.equal(scope.sinceLast(['media_attachments'], true), 5000);
    assert.equal(scope.lastCompletedRun()?.id, localOnly);
    journal.close();
  });

  test('multipart uploads of a run that died are handed back for clean-up, those of a live run are not', () => {
    const journal = Journal.open(file('uploads.sqlite'));
    const scope = journal.scope('a', 'b')!;
    const live = scope.beginRun({ jobs: ['backups'], kind: 'full', localOnly: false });
    scope.uploadStarted('backups/dumps/live.tar.gz', 'upload-live', live);
    // A run recorded by a process that no longer exists (as after kill -9).
    const dead = scope.beginRun({ jobs: ['backups'], kind: 'full', localOnly: false });
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const raw = new Database(file('uploads.sqlite'));
    raw.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(Number(gone), dead);
    raw.close();
    scope.uploadStarted('backups/dumps/dead.tar.gz', 'upload-dead', dead);
    assert.deepEqual(
      scope.abandonedUploads().map((upload) => upload.uploadId),
      ['upload-dead'],
    );
    scope.uploadEnded('upload-dead');
    assert.deepEqual(scope.abandonedUploads(), []);
    journal.close();
  });

  test('a page of keys is looked up at once: every recorded one found, whatever its characters, the others absent', () => {
    const journal = Journal.open(file('pages.sqlite'));
    const scope = journal.scope('a', 'b')!;
    const other = journal.scope('a', 'c')!;
    const odd = ['media_attachments/files/000/000/001/original/a "quoted" name.png', "emoji/it's\\back.png", 'cache/ünïcödé/日本.jpg', 'x'.repeat(1000)];
    const many = Array.from({ length: 40_000 }, (_, i) => `media_attachments/files/${String(i).padStart(9, '0')}/original/f.png`);
    for (const key of [...odd, ...many]) scope.record({ job: 'media_attachments', key, outcome: 'copied', size: key.length, etag: 'e'.repeat(32), acl: 'public-read' });
    scope.record({ job: 'media_attachments', key: 'media_attachments/files/failed.png', outcome: 'failed', reason: '403 Forbidden', attempts: 5 });
    other.record({ job: 'accounts', key: 'accounts/only-elsewhere.png', outcome: 'copied', size: 1 });
    scope.flush();
    other.flush();

    // More keys than SQLite takes as bound parameters, in no particular order, one repeated, some never recorded.
    const page = [...many].reverse().concat(odd, odd[0]!, 'media_attachments/files/failed.png', 'never/recorded.png', 'accounts/only-elsewhere.png');
    const outcomes = scope.outcomes(page);
    assert.equal(outcomes.size, odd.length + many.length + 1);
    for (const key of [...odd, ...many]) assert.deepEqual(outcomes.get(key), { key, outcome: 'copied', reason: null, size: key.length, etag: 'e'.repeat(32), acl: 'public-read' });
    assert.deepEqual(outcomes.get('media_attachments/files/failed.png'), { key: 'media_attachments/files/failed.png', outcome: 'failed', reason: '403 Forbidden', size: null, etag: null, acl: null });
    assert.equal(outcomes.has('never/recorded.png'), false);
    assert.equal(outcomes.has('accounts/only-elsewhere.png'), false, "another pair's keys are not this one's");
    assert.equal(scope.outcomes([]).size, 0);

    scope.addInventory([{ key: odd[0]!, size: 5, etag: '0123456789abcdef0123456789abcdef' }, { key: odd[1]!, size: 6 }]);
    assert.deepEqual(
      [...scope.inventoryEntries([odd[1]!, 'never/recorded.png', odd[0]!]).values()].sort((a, b) => a.size - b.size),
      [
        { key: odd[0]!, size: 5, etag: '0123456789abcdef0123456789abcdef' },
        { key: odd[1]!, size: 6 },
      ],
    );
    assert.equal(other.inventoryEntries([odd[0]!]).size, 0);
    journal.close();
  });

  test('a schema-1 file (no ACLs) is read as it is when read-only, and gains the acl column when opened to write', () => {
    const journal = Journal.open(file('schema-1.sqlite'));
    journal.scope('s3://old at A', 's3://new at B')!.record({ job: 'accounts', key: 'accounts/a.png', outcome: 'copied', size: 10 });
    journal.close();
    const raw = new Database(file('schema-1.sqlite'));
    raw.exec("ALTER TABLE objects DROP COLUMN acl; UPDATE meta SET value = '1' WHERE name = 'schema_version'");
    raw.close();

    const reading = Journal.open(file('schema-1.sqlite'), { readonly: true });
    assert.equal(reading.scope('s3://old at A', 's3://new at B')!.outcomes(['accounts/a.png']).get('accounts/a.png')?.acl, null);
    reading.close();

    const writing = Journal.open(file('schema-1.sqlite'));
    const scope = writing.scope('s3://old at A', 's3://new at B')!;
    assert.equal(scope.outcomes(['accounts/a.png']).get('accounts/a.png')?.acl, null, 'what schema 1 wrote has no known ACL');
    scope.record({ job: 'accounts', key: 'accounts/b.png', outcome: 'copied', size: 10, acl: 'private' });
    scope.flush();
    assert.equal(scope.outcomes(['accounts/b.png']).get('accounts/b.png')?.acl, 'private');
    writing.close();
    const migrated = new Database(file('schema-1.sqlite'), { readonly: true });
    assert.deepEqual(migrated.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get(), { value: '2' });
    migrated.close();
  });

  test('a read-only open never creates the file', async () => {
    assert.throws(() => Journal.open(file('absent.sqlite'), { readonly: true }), UserError);
    await assert.rejects(stat(file('absent.sqlite')), { code: 'ENOENT' });
  });

  test('a file that is not a state file, or a directory that does not exist, is one clear line', async () => {
    await writeFile(file('not-sqlite.sqlite'), 'hello, this is not SQLite at all'.repeat(100));
    assert.throws(
      () => Journal.open(file('not-sqlite.sqlite')),
      (error) => error instanceof UserError && /not a usable mastodon-s3-sync state file/.test(error.message),
    );
    assert.throws(
      () => Journal.open(path.join(directory, 'no', 'such', 'dir', 'state.sqlite')),
      (error) => error instanceof UserError && error.code === 'journal.cannot-open' && /directory .*no\/such\/dir does not exist: create it/.test(error.message),
    );
  });
});
