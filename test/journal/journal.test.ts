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
      { ...reopened.get('accounts/a.png'), updatedAt: 0, run: null },
      { job: 'accounts', key: 'accounts/a.png', outcome: 'copied', reason: null, attempts: 1, size: 10, etag: null, foundAt: null, run: null, updatedAt: 0 },
    );
    assert.equal(reopened.get('accounts/b.png')?.reason, '403 Forbidden');
    assert.equal(again.scope('s3://old at A', 's3://elsewhere at C')!.get('accounts/a.png'), undefined, 'another destination inherits nothing');
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
