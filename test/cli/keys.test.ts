import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { idPartition } from '../../src/mastodon/id-partition.js';
import { binPath, runCli } from '../helpers/cli.js';
import { createScratchDatabase, insertAccount, insertMediaAttachment, type ScratchDatabase } from '../helpers/postgres.js';

/** More rows than one derivation batch (2000), so a page is cut into several. */
const bulkRows = 4600;
const base = 111_677_748_019_200_000n;

/** The keys of bulk row `g`, written out from the contract: thirds jpeg, png, mp4; two in five remote at version 1. */
function bulkKeys(g: number): string[] {
  const partition = idPartition((base + BigInt(g)).toString());
  const name = `m${g}`;
  const [original, small] = [
    [`${name}.jpeg`, `${name}.jpeg`],
    [`${name}.png`, `${name}.png`],
    [`${name}.mp4`, `${name}.png`],
  ][g % 3]!;
  const cache = g % 5 < 2 ? 'cache/' : '';
  return [`${cache}media_attachments/files/${partition}/original/${original}`, `${cache}media_attachments/files/${partition}/small/${small}`];
}

describe('keys over thousands of rows', () => {
  let database: ScratchDatabase;
  let directory: string;
  const special: string[] = [];

  before(async () => {
    [database, directory] = await Promise.all([createScratchDatabase(), mkdtemp(path.join(tmpdir(), 'mss-keys-'))]);
    const suspended = await insertAccount(database.client, { suspended_at: '2024-01-01' });
    await database.client.query(
      `INSERT INTO media_attachments (id, account_id, file_file_name, file_content_type, remote_url, file_storage_schema_version,
                                      thumbnail_remote_url, created_at, updated_at)
       SELECT $1::bigint + g, CASE WHEN g % 7 = 0 THEN $2::bigint END,
              'm' || g || CASE g % 3 WHEN 0 THEN '.jpeg' WHEN 1 THEN '.png' ELSE '.mp4' END,
              CASE g % 3 WHEN 0 THEN 'image/jpeg' WHEN 1 THEN 'image/png' ELSE 'video/mp4' END,
              CASE WHEN g % 5 < 2 THEN 'https://remote.example/' || g ELSE '' END, 1,
              'https://remote.example/thumbnail/' || g, now(), now()
       FROM generate_series(1, $3::int) AS g`,
      [base.toString(), suspended, bulkRows],
    );
    // After the bulk ids: a multi-byte name (the output buffer is sized in UTF-16 units), and
    // remote_url values the page query cannot shorten to 'http', judged blank or not as Ruby does.
    const later = (n: number): string => (base + 1_000_000n + BigInt(n)).toString();
    const rows: [string, string, string][] = [
      [later(1), 'ünï 🐘 cödé.png', ''],
      [later(2), 'blank.png', ' \t\n'],
      [later(3), 'spaced.png', '  https://remote.example/spaced'],
      [later(4), 'relative.png', '//remote.example/relative'],
    ];
    for (const [id, name, remoteUrl] of rows) {
      await insertMediaAttachment(database.client, { id, file_file_name: name, file_content_type: 'image/png', remote_url: remoteUrl, file_storage_schema_version: 1 });
    }
    special.push(
      `media_attachments/files/${idPartition(later(1))}/original/ünï 🐘 cödé.png`,
      `media_attachments/files/${idPartition(later(1))}/small/ünï 🐘 cödé.png`,
      `media_attachments/files/${idPartition(later(2))}/original/blank.png`,
      `media_attachments/files/${idPartition(later(2))}/small/blank.png`,
      `cache/media_attachments/files/${idPartition(later(3))}/original/spaced.png`,
      `cache/media_attachments/files/${idPartition(later(3))}/small/spaced.png`,
      `cache/media_attachments/files/${idPartition(later(4))}/original/relative.png`,
      `cache/media_attachments/files/${idPartition(later(4))}/small/relative.png`,
    );
  });

  after(async () => {
    await Promise.all([database?.drop(), directory && rm(directory, { recursive: true, force: true })]);
  });

  const configWith = async (name: string, sync: string): Promise<string> => {
    const file = path.join(directory, name);
    await writeFile(file, `[database]\nurl = ${database.url}\n${sync}`);
    return file;
  };
  const expected = (): string[] => [...Array.from({ length: bulkRows }, (_, i) => bulkKeys(i + 1)).flat(), ...special];

  test('every key, in id order, byte for byte, with the default page size', async () => {
    const result = await runCli(['keys', 'media_attachments', '--config', await configWith('default.ini', '')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${expected().join('\n')}\n`);
  });

  test('the same over many small pages, each asked for while the last is printed', async () => {
    const result = await runCli(['keys', 'media_attachments', '--config', await configWith('small-pages.ini', '\n[sync]\nbatch_size = 333\n')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${expected().join('\n')}\n`);
  });

  test('--limit stops inside a page and a batch', async () => {
    const result = await runCli(['keys', 'media_attachments', '--config', await configWith('limit.ini', '\n[sync]\nbatch_size = 3000\n'), '--limit', '2345']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${expected().slice(0, 2 * 2345).join('\n')}\n`);
  });

  test('a reader that stops early (keys | head) ends the listing quietly, exit 0', async () => {
    const config = await configWith('head.ini', '');
    const piped = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${binPath}" keys media_attachments --config "${config}" | head -n 3`], { encoding: 'utf8' });
    assert.equal(piped.stderr, '');
    assert.equal(piped.status, 0);
    assert.equal(piped.stdout, `${expected().slice(0, 3).join('\n')}\n`);
  });
});
