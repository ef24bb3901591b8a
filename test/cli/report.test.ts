import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, runCliPiped } from '../helpers/cli.js';
import { insertAccount, insertCustomEmoji, insertMediaAttachment } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, jobSummary, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

describe('report and sync --retry-failed', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let config: string;
  const present = 'accounts/avatars/000/000/001/original/present0present0.png';
  const forbidden = 'accounts/avatars/000/000/002/original/forbidden0forbid.png';
  const missing = 'accounts/avatars/000/000/003/original/missing0missing0.png';

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.sourceServer.endpoint);
    const db = instance.database.client;
    await insertAccount(db, { id: '1', avatar_file_name: 'present0present0.png', avatar_content_type: 'image/png' });
    await insertAccount(db, { id: '2', avatar_file_name: 'forbidden0forbid.png', avatar_content_type: 'image/png' });
    await insertAccount(db, { id: '3', avatar_file_name: 'missing0missing0.png', avatar_content_type: 'image/png' });
    await instance.seed(present, 'present', { contentType: 'image/png' });
    await instance.seed(forbidden, 'forbidden', { contentType: 'image/png' });
    config = await instance.writeConfig({
      source: s3Section(proxy.endpoint, sourceBucket),
    });
    // The source refuses one object, as a bucket policy would.
    proxy.setFaults({ choose: (request) => (request.path.endsWith(forbidden) ? 'forbidden' : undefined) });
    const result = await runCli(['sync', 'accounts', '--config', config, '--json']);
    proxy.setFaults(undefined);
    assert.equal(result.code, 1, result.stderr);
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('prints per-job counts and the keys that need attention, with their reasons', async () => {
    const result = await runCli(['report', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, /^job\s+copied\s+skipped\s+missing\s+absent\s+failed\s+bytes$/);
    assert.match(lines[1]!, /^accounts\s+1\s+0\s+1\s+0\s+1\s+7 B$/);
    assert.match(result.stdout, /last run: .*, full, completed \(accounts\)/);
    assert.match(result.stdout, new RegExp(`failed +${forbidden}  \\(reading from the source: 403 (AccessDenied|Forbidden)\\)`));
    assert.match(result.stdout, new RegExp(`missing +${missing}  \\(not in source\\)`));
    assert.match(result.stdout, /sync --retry-failed tries exactly these again/);
  });

  test('--output writes the failed and missing keys as CSV; --format jsonl to stdout, counts to stderr', async () => {
    const file = path.join(instance.directory, 'attention.csv');
    const csv = await runCli(['report', '--config', config, '--output', file]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stderr, /2 keys \(failed, missing\) written to .*attention\.csv/);
    const rows = (await readFile(file, 'utf8')).trim().split('\n');
    assert.equal(rows[0], 'job,key,outcome,reason,attempts,updated_at');
    assert.deepEqual(
      rows.slice(1).map((row) => row.split(',').slice(0, 3).join(',')).sort(),
      [`accounts,${forbidden},failed`, `accounts,${missing},missing`],
    );

    const jsonl = await runCli(['report', '--config', config, '--format', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const records = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string; outcome: string; attempts: number });
    assert.deepEqual(records.map((record) => [record.outcome, record.key]).sort(), [
      ['failed', forbidden],
      ['missing', missing],
    ]);
    assert.equal(records.find((record) => record.outcome === 'failed')?.attempts, 1, 'a 403 is not retried');
    assert.match(jsonl.stderr, /^job\s+copied/);
  });

  test('a reader that has gone (report | head, report --format csv | head) is no error: exit 0, no trace', async () => {
    for (const args of [['report'], ['report', '--format', 'csv']]) {
      const result = await runCliPiped([...args, '--config', config], 'true');
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /EPIPE|cannot write|\n\s+at /, args.join(' '));
    }
  });

  test('--output into a directory that does not exist: one line and exit 2, never "written to"', async () => {
    const file = path.join(instance.directory, 'no-such-folder', 'attention.csv');
    const result = await runCli(['report', '--config', config, '--output', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `mastodon-s3-sync: cannot write ${file} (ENOENT): check the path and its permissions\n`);
  });

  test('--json gives the counts as one record', async () => {
    const result = await runCli(['report', '--config', config, '--json']);
    const record = JSON.parse(result.stdout) as { report: Record<string, unknown>[]; lastRun: { status: string } };
    assert.deepEqual(record.report, [{ job: 'accounts', copied: 1, skipped: 0, missing: 1, absentStyle: 0, failed: 1, bytes: 7 }]);
    assert.equal(record.lastRun.status, 'completed');
  });

  test('report needs only the state file: a config without [database], or none at all with --state (a copy of the file on another machine)', async () => {
    const file = path.join(path.dirname(config), 'state.sqlite');
    const stateOnly = await instance.writeConfig({ database: null, source: null, destination: null, sync: { state_path: file } }, 'state-only.ini');
    for (const args of [['--config', stateOnly], ['--state', file]]) {
      const result = await runCli(['report', ...args, '--json'], { cwd: instance.directory });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((JSON.parse(result.stdout) as { report: unknown[] }).report, [{ job: 'accounts', copied: 1, skipped: 0, missing: 1, absentStyle: 0, failed: 1, bytes: 7 }]);
    }
  });

  test('report reads the state file without writing it', async () => {
    const file = path.join(path.dirname(config), 'state.sqlite');
    const before = (await stat(file)).mtimeMs;
    await runCli(['report', '--config', config]);
    assert.equal((await stat(file)).mtimeMs, before);
  });

  test('sync --retry-failed asks the source about exactly the failed and missing keys', async () => {
    await instance.seed(missing, 'found again', { contentType: 'image/png' });
    const start = proxy.requests.length;
    const result = await runCli(['sync', 'accounts', '--config', config, '--json', '--retry-failed']);
    assert.equal(result.code, 0, result.stderr);
    const asked = new Set(
      proxy.requests
        .slice(start)
        .filter((request) => request.path.startsWith(`/${sourceBucket}/accounts/`))
        .map((request) => request.path.slice(sourceBucket.length + 2)),
    );
    assert.deepEqual([...asked].sort(), [forbidden, missing]);
    const summary = jobSummary(result.stdout, 'accounts');
    assert.deepEqual({ keys: summary.keys, copied: summary.copied, failed: summary.failed }, { keys: 2, copied: 2, failed: 0 });
    assert.deepEqual(await instance.destinationKeys(), [forbidden, missing, present].sort());

    const report = await runCli(['report', '--config', config, '--json']);
    assert.deepEqual((JSON.parse(report.stdout) as { report: unknown[] }).report, [{ job: 'accounts', copied: 3, skipped: 0, missing: 0, absentStyle: 0, failed: 0, bytes: 27 }]);
  });

  test('sync --retry-failed for a pair the state file never ran (a [destination] changed since): one clear line, nothing asked', async () => {
    const elsewhere = await instance.writeConfig(
      {
        source: s3Section(proxy.endpoint, sourceBucket),
        destination: { type: 'fs', path: instance.directory },
        sync: { state_path: path.join(path.dirname(config), 'state.sqlite') },
      },
      'elsewhere.ini',
    );
    const start = proxy.requests.length;
    const result = await runCli(['sync', 'accounts', '--config', elsewhere, '--retry-failed']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr.trim(), /^mastodon-s3-sync: --retry-failed: the state file .*state\.sqlite records no run from s3:\/\/old-media at .* to .*: check \[source\] and \[destination\] against the earlier runs', or run a sync first$/);
    assert.equal(proxy.requests.slice(start).filter((request) => request.path.startsWith(`/${sourceBucket}/accounts/`)).length, 0);
  });

  test('report for a pair the state file never ran (a [destination] changed since) says which sections to check, as sync --retry-failed does', async () => {
    const elsewhere = await instance.writeConfig(
      { destination: { type: 'fs', path: instance.directory }, sync: { state_path: path.join(path.dirname(config), 'state.sqlite') } },
      'report-elsewhere.ini',
    );
    const result = await runCli(['report', '--config', elsewhere]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^mastodon-s3-sync: the state file .*state\.sqlite records no run from s3:\/\/old-media at .* to directory .*: check \[source\] and \[destination\] against the earlier runs', or run a sync first\n$/);
    assert.equal(result.stdout, '');
  });

  test('without a state file: one clear line', async () => {
    const result = await runCli(['report', '--config', config, '--state', path.join(instance.directory, 'nothing-here.sqlite')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no state file at .*nothing-here\.sqlite: run a sync first/);
  });

  test('sync --retry-failed or --since last with a --state that names no file: one clear line, and no empty state file left behind', async () => {
    const mistyped = path.join(instance.directory, 'stat.sqlite');
    for (const flags of [['--retry-failed'], ['--since', 'last']]) {
      const result = await runCli(['sync', 'accounts', '--config', config, '--state', mistyped, ...flags]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `mastodon-s3-sync: ${flags.join(' ')}: no state file at ${mistyped}: point --state (or [sync] state_path) at the earlier runs' file, or run a sync first\n`,
      );
      await assert.rejects(stat(mistyped), { code: 'ENOENT' });
    }
  });

  test('jobs come in the order sync runs and prints them, not alphabetically', async () => {
    const db = instance.database.client;
    await insertMediaAttachment(db, { id: '20', file_file_name: 'media1media1media.jpeg', file_content_type: 'image/jpeg' });
    await insertCustomEmoji(db, { id: 42, image_file_name: 'e1e2e3e4e5e6e7e8.gif', image_content_type: 'image/gif' });
    // One object the source holds: a run that finds none records nothing.
    await instance.seed('custom_emojis/images/000/000/042/original/e1e2e3e4e5e6e7e8.gif', 'GIF89a', { contentType: 'image/gif' });
    const sync = await runCli(['sync', 'custom_emojis', 'media_attachments', '--config', config]);
    assert.equal(sync.code, 0, sync.stderr);
    const report = await runCli(['report', '--config', config]);
    assert.equal(report.code, 0, report.stderr);
    const lines = report.stdout.split('\n');
    const tableJobs = lines.slice(1, lines.findIndex((line) => line.startsWith('total')) + 1).map((line) => line.split(/\s+/)[0]);
    assert.deepEqual(tableJobs, ['accounts', 'media_attachments', 'custom_emojis', 'total']);
  });
});
