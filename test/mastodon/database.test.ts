import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { UserError } from '../../src/errors.js';
import { connectError } from '../../src/mastodon/database-errors.js';
import { jobModels, MastodonDatabase, objectRefsForRow, type Row } from '../../src/mastodon/index.js';
import {
  createImportsTable,
  createScratchDatabase,
  createStatusesTable,
  insertAccount,
  insertBackup,
  insertBulkMedia,
  insertMediaAttachment,
  insertPreviewCard,
  insertRow,
  insertStatus,
  serverSettings,
  snowflakeId,
  utcTimestamp,
  type ScratchDatabase,
} from '../helpers/postgres.js';

let scratch: ScratchDatabase;

before(async () => {
  scratch = await createScratchDatabase();
});

after(async () => {
  await scratch?.drop();
});

async function withDatabase<T>(url: string, use: (db: MastodonDatabase) => Promise<T>): Promise<T> {
  const db = await MastodonDatabase.connect({ connectionString: url });
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

async function collect(pages: AsyncIterable<Row[]>): Promise<Row[][]> {
  const result: Row[][] = [];
  for await (const page of pages) result.push(page);
  return result;
}

const ids = (pages: Row[][]): string[] => pages.flat().map((row) => row['id'] as string);

async function truncate(...tables: string[]): Promise<void> {
  await scratch.client.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')}`);
}

/** Serial-era ids, and 18-digit snowflakes (> 2^53) from 2024, with rows without files in between. */
async function insertMixedMedia(): Promise<string[]> {
  await truncate('media_attachments');
  const withFiles = ['5', '99', '1000000000'];
  for (const id of withFiles) await insertMediaAttachment(scratch.client, { id, file_file_name: `${id}.jpg`, file_content_type: 'image/jpeg' });
  for (let seq = 1; seq <= 24; seq++) {
    const id = snowflakeId(new Date('2024-01-01T00:00:00Z'), seq);
    if (seq % 6 === 0) {
      await insertMediaAttachment(scratch.client, { id, file_file_name: null, thumbnail_file_name: null });
      continue;
    }
    // One row has only a thumbnail (remote audio whose file was never downloaded).
    const columns = seq === 5 ? { thumbnail_file_name: 'cover.png', remote_url: 'https://remote.example/a.mp3' } : { file_file_name: `f${seq}.png`, file_content_type: 'image/png' };
    await insertMediaAttachment(scratch.client, { id, ...columns });
    withFiles.push(id);
  }
  return withFiles;
}

test('rows() pages by id across batches, ids exact as strings, rows without files skipped', async () => {
  const expected = await insertMixedMedia();
  assert.equal(expected.length, 23);
  await withDatabase(scratch.url, async (db) => {
    const pages = await collect(db.rows('media_attachments', { batchSize: 7 }));
    assert.deepEqual(
      pages.map((p) => p.length),
      [7, 7, 7, 2],
    );
    // Numeric order (a text sort would put 1000000000 before 99), every id exact.
    assert.deepEqual(ids(pages), expected);
    const first = pages.flat().find((row) => row['id'] === '111677748019200001');
    assert.ok(first, 'the first snowflake row is read');
    assert.deepEqual(
      objectRefsForRow('media_attachments', first).map((r) => r.key),
      ['media_attachments/files/111/677/748/019/200/001/original/f1.png', 'media_attachments/files/111/677/748/019/200/001/small/f1.png'],
    );
    assert.equal(await db.countRows('media_attachments'), 23);
  });
});

test('rows() honours limit and afterId; countRows agrees', async () => {
  const expected = await insertMixedMedia();
  await withDatabase(scratch.url, async (db) => {
    const limited = await collect(db.rows('media_attachments', { limit: 10, batchSize: 4 }));
    assert.deepEqual(
      limited.map((p) => p.length),
      [4, 4, 2],
    );
    assert.deepEqual(ids(limited), expected.slice(0, 10));
    assert.equal(await db.countRows('media_attachments', { limit: 10 }), 10);

    const resumed = await collect(db.rows('media_attachments', { afterId: '99', batchSize: 1000 }));
    assert.deepEqual(ids(resumed), expected.slice(2));
    assert.equal(await db.countRows('media_attachments', { afterId: '99' }), 21);

    assert.deepEqual(await collect(db.rows('media_attachments', { limit: 0 })), []);
  });
});

test('a caller that stops after a page leaves the session usable, and close() may cut the next page short', async () => {
  const expected = await insertMixedMedia();
  await withDatabase(scratch.url, async (db) => {
    for await (const page of db.rows('media_attachments', { batchSize: 5 })) {
      assert.deepEqual(ids([page]), expected.slice(0, 5));
      break;
    }
    // The page asked for ahead arrives unread; the next statement waits for it, then runs.
    assert.equal(await db.countRows('media_attachments'), expected.length);
    for await (const page of db.rows('media_attachments', { batchSize: 5 })) {
      assert.equal(page.length, 5);
      break;
    }
  });
});

test('a page is handed on in batches of at most 500 rows, in id order', async () => {
  await truncate('media_attachments', 'accounts');
  await insertBulkMedia(scratch.client, 1234, 10);
  await withDatabase(scratch.url, async (db) => {
    const batches = await collect(db.rows('media_attachments', { batchSize: 5000 }));
    assert.deepEqual(
      batches.map((batch) => batch.length),
      [500, 500, 234],
    );
    const read = ids(batches).map(BigInt);
    assert.equal(new Set(read).size, 1234);
    assert.ok(read.every((id, i) => i === 0 || id > read[i - 1]!), 'ids ascend across batches');
  });
});

test("a page's first rows reach the caller while the rest are still on the way: a connection lost mid-page ends the rows with db.unreachable", async () => {
  // Far more than the loopback socket buffers hold, in one page: a page read whole before its first
  // row was handed on would arrive complete, and the lost connection would go unnoticed.
  const total = 300_000;
  await truncate('media_attachments', 'accounts');
  await insertBulkMedia(scratch.client, total, 10);
  await withDatabase(scratch.url, async (db) => {
    const [session] = await db.query('SELECT pg_backend_pid() AS pid');
    let read = 0;
    await assert.rejects(
      (async () => {
        for await (const batch of db.rows('media_attachments', { batchSize: total + 1 })) {
          if (read === 0) await scratch.client.query('SELECT pg_terminate_backend($1)', [session?.['pid']]);
          read += batch.length;
        }
      })(),
      (error: unknown) => {
        assert.ok(error instanceof UserError, String(error));
        assert.equal(error.code, 'db.unreachable');
        assert.match(error.message, /^lost the connection to PostgreSQL at 127\.0\.0\.1:\d+: .* — check that the server is running, then resume$/);
        return true;
      },
    );
    assert.ok(read > 0 && read < total, `${read} of ${total} rows handed on before the error`);
  });
});

test('rows() leaves diagnostic columns out of the page query', async () => {
  await truncate('media_attachments');
  await insertMediaAttachment(scratch.client, {
    id: '111677748019200001',
    remote_url: 'https://remote.example/v.mp4',
    thumbnail_remote_url: 'https://remote.example/poster.jpg',
    file_file_name: 'v.mp4',
    file_content_type: 'video/mp4',
    file_storage_schema_version: 1,
  });
  await withDatabase(scratch.url, async (db) => {
    const [row] = (await collect(db.rows('media_attachments'))).flat();
    assert.ok(row);
    assert.ok(!('thumbnail_remote_url' in row), 'thumbnail_remote_url is never read');
    assert.deepEqual(objectRefsForRow('media_attachments', row).map((r) => r.key), [
      'cache/media_attachments/files/111/677/748/019/200/001/original/v.mp4',
      'cache/media_attachments/files/111/677/748/019/200/001/small/v.png',
    ]);
  });
});

test('rows() with since keeps rows whose updated_at or any <att>_updated_at is newer, in UTC', async () => {
  await truncate('accounts');
  // Mastodon's timestamps hold UTC whatever the server's TimeZone; make the session's differ.
  await scratch.client.query(`ALTER DATABASE "${scratch.name}" SET timezone = 'America/New_York'`);
  const at = (iso: string) => utcTimestamp(new Date(iso));
  const old = at('2020-01-01T00:00:00Z');
  const file = { avatar_file_name: 'a.jpg', avatar_content_type: 'image/jpeg' };
  await insertAccount(scratch.client, { id: '1', ...file, updated_at: old, avatar_updated_at: old });
  await insertAccount(scratch.client, { id: '2', ...file, updated_at: old, avatar_updated_at: at('2025-01-01T00:00:00Z') });
  await insertAccount(scratch.client, { id: '3', header_file_name: 'h.png', updated_at: old, header_updated_at: at('2025-01-01T00:00:00Z') });
  await insertAccount(scratch.client, { id: '4', ...file, updated_at: at('2024-06-01T01:00:00Z') });
  await insertAccount(scratch.client, { id: '5', ...file, updated_at: at('2024-05-31T23:00:00Z') });
  await insertAccount(scratch.client, { id: '6', updated_at: at('2025-01-01T00:00:00Z') });
  try {
    await withDatabase(scratch.url, async (db) => {
      const since = new Date('2024-06-01T00:00:00Z');
      assert.deepEqual(ids(await collect(db.rows('accounts', { since }))), ['2', '3', '4']);
      assert.equal(await db.countRows('accounts', { since }), 3);
      assert.deepEqual(ids(await collect(db.rows('accounts'))), ['1', '2', '3', '4', '5']);
    });
  } finally {
    await scratch.client.query(`ALTER DATABASE "${scratch.name}" RESET timezone`);
  }
});

test('media of suspended accounts and soft-deleted statuses come back private', async () => {
  await truncate('media_attachments', 'accounts');
  await createStatusesTable(scratch.client);
  try {
    const suspended = await insertAccount(scratch.client, { suspended_at: utcTimestamp(new Date()) });
    const active = await insertAccount(scratch.client);
    const deleted = await insertStatus(scratch.client, { account_id: active, deleted_at: utcTimestamp(new Date()) });
    const kept = await insertStatus(scratch.client, { account_id: active });
    const file = { file_file_name: 'm.jpg', file_content_type: 'image/jpeg' };
    const ofSuspended = await insertMediaAttachment(scratch.client, { ...file, account_id: suspended });
    const ofDeleted = await insertMediaAttachment(scratch.client, { ...file, account_id: active, status_id: deleted });
    const ofKept = await insertMediaAttachment(scratch.client, { ...file, account_id: active, status_id: kept });
    const orphan = await insertMediaAttachment(scratch.client, { ...file });

    await withDatabase(scratch.url, async (db) => {
      const rows = (await collect(db.rows('media_attachments'))).flat();
      const privacy = new Map(rows.map((row) => [row['id'], objectRefsForRow('media_attachments', row).map((r) => r.private)]));
      assert.deepEqual(privacy.get(ofSuspended), [true, true]);
      assert.deepEqual(privacy.get(ofDeleted), [true, true]);
      assert.deepEqual(privacy.get(ofKept), [false, false]);
      assert.deepEqual(privacy.get(orphan), [false, false]);
    });
  } finally {
    await scratch.client.query('DROP TABLE statuses');
  }
});

test('the session is read-only: writes through its connection fail', async () => {
  await truncate('backups');
  await withDatabase(scratch.url, async (db) => {
    await assert.rejects(db.query(`INSERT INTO backups (created_at, updated_at) VALUES (now(), now())`), { code: '25006' });
    await assert.rejects(db.query('CREATE TABLE intruder (id int)'), { code: '25006' });
    assert.deepEqual(await db.query('SHOW statement_timeout'), [{ statement_timeout: '5min' }]);
  });
  const { rows } = await scratch.client.query('SELECT count(*)::int AS n FROM backups');
  assert.equal(rows[0].n, 0);
});

test('availableJobs lists the tables present; imports only on old instances', async () => {
  await withDatabase(scratch.url, async (db) => {
    assert.deepEqual(await db.availableJobs(), ['accounts', 'media_attachments', 'custom_emojis', 'preview_cards', 'site_uploads', 'backups', 'preview_card_providers']);
    await assert.rejects(collect(db.rows('imports')), (error: unknown) => error instanceof UserError && error.code === 'db.no-table' && error.message.includes('"imports"'));
  });

  await createImportsTable(scratch.client);
  try {
    const id = await insertRow(scratch.client, 'imports', { type: 0, account_id: 1, created_at: 'now', updated_at: 'now', data_file_name: 'following accounts.csv' });
    await withDatabase(scratch.url, async (db) => {
      assert.ok((await db.availableJobs()).includes('imports'));
      const [row] = (await collect(db.rows('imports'))).flat();
      assert.ok(row);
      assert.deepEqual(objectRefsForRow('imports', row).map((r) => r.key), [`imports/data/000/000/${id.padStart(3, "0")}/original/following accounts.csv`]);
    });
  } finally {
    await scratch.client.query('DROP TABLE imports');
  }
});

// The fixture is Mastodon's current schema (docs/mastodon-source-check.md): a newer one with an
// attachment the models lack, or without a column they name, must not pass unnoticed.
test('the current schema has every column the models read, and no attachment they lack', async () => {
  const { rows } = await scratch.client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND column_name LIKE '%\\_file\\_name' ORDER BY table_name, ordinal_position`,
  );
  const stored = rows.map((r) => `${r.table_name}.${r.column_name.slice(0, -'_file_name'.length)}`);
  await withDatabase(scratch.url, async (db) => {
    const jobs = await db.availableJobs();
    const known = jobs.flatMap((job) => jobModels[job].attachments.map((attachment) => `${jobModels[job].table}.${attachment.name}`));
    assert.deepEqual([...stored].sort(), [...known].sort());
    for (const job of jobs) assert.deepEqual((await db.jobSchema(job)).missingOptionalColumns, [], job);
  });
});

test('backups are read with their private flag', async () => {
  await truncate('backups');
  const id = await insertBackup(scratch.client, { dump_file_name: 'archive-20240101120000-0123456789abcdef0123456789abcdef.zip', dump_file_size: 5_000_000_000 });
  await insertBackup(scratch.client, { dump_file_name: null });
  await withDatabase(scratch.url, async (db) => {
    const rows = (await collect(db.rows('backups'))).flat();
    assert.deepEqual(rows.map((r) => r['id']), [id]);
    const refs = rows.flatMap((row) => objectRefsForRow('backups', row));
    assert.deepEqual(refs.map((r) => [r.key, r.private]), [[`backups/dumps/000/000/${id.padStart(3, '0')}/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip`, true]]);
  });
});

// --- older schemas ------------------------------------------------------------------

test('older schemas: missing optional columns read as NULL, so version 0 and no cache/', async () => {
  const old = await createScratchDatabase();
  try {
    const remoteAccount = await insertAccount(old.client, { id: '1234', domain: 'remote.example', avatar_file_name: 'av.png', avatar_content_type: 'image/png', avatar_storage_schema_version: 1 });
    const remoteMedia = await insertMediaAttachment(old.client, {
      id: '111677748019200001',
      remote_url: 'https://remote.example/v.mp4',
      file_file_name: 'v.mp4',
      file_content_type: 'video/mp4',
      file_storage_schema_version: 1,
      thumbnail_file_name: 'poster.jpg',
      thumbnail_content_type: 'image/jpeg',
      thumbnail_storage_schema_version: 1,
    });
    const card = await insertPreviewCard(old.client, { image_file_name: 'card.jpg', image_storage_schema_version: 1 });

    // A 4.5 database: no thumbnail_storage_schema_version yet, so thumbnails are never under cache/.
    await old.client.query('ALTER TABLE media_attachments DROP COLUMN thumbnail_storage_schema_version');
    await withDatabase(old.url, async (db) => {
      assert.deepEqual((await db.jobSchema('media_attachments')).missingOptionalColumns, ['thumbnail_storage_schema_version']);
      const [row] = (await collect(db.rows('media_attachments'))).flat();
      assert.ok(row);
      assert.equal(row['thumbnail_storage_schema_version'], null);
      assert.deepEqual(objectRefsForRow('media_attachments', row).map((r) => r.key), [
        'cache/media_attachments/files/111/677/748/019/200/001/original/v.mp4',
        'cache/media_attachments/files/111/677/748/019/200/001/small/v.png',
        'media_attachments/thumbnails/111/677/748/019/200/001/original/poster.jpg',
      ]);
    });

    // A pre-3.1.4 database (and pre-3.2 for thumbnails).
    await old.client.query(`
      ALTER TABLE accounts DROP COLUMN avatar_storage_schema_version, DROP COLUMN header_storage_schema_version;
      ALTER TABLE media_attachments DROP COLUMN file_storage_schema_version, DROP COLUMN thumbnail_file_name,
        DROP COLUMN thumbnail_content_type, DROP COLUMN thumbnail_file_size, DROP COLUMN thumbnail_updated_at,
        DROP COLUMN thumbnail_remote_url;
      ALTER TABLE custom_emojis DROP COLUMN image_storage_schema_version;
      ALTER TABLE preview_cards DROP COLUMN image_storage_schema_version;`);
    await withDatabase(old.url, async (db) => {
      assert.deepEqual((await db.jobSchema('media_attachments')).missingOptionalColumns, [
        'file_storage_schema_version',
        'thumbnail_file_name',
        'thumbnail_storage_schema_version',
        'thumbnail_remote_url',
      ]);
      const keysOf = async (job: 'accounts' | 'media_attachments' | 'preview_cards') =>
        (await collect(db.rows(job))).flat().flatMap((row) => objectRefsForRow(job, row).map((r) => r.key));
      assert.deepEqual(await keysOf('accounts'), [`accounts/avatars/000/001/234/original/av.png`]);
      assert.deepEqual(await keysOf('media_attachments'), [
        'media_attachments/files/111/677/748/019/200/001/original/v.mp4',
        'media_attachments/files/111/677/748/019/200/001/small/v.png',
      ]);
      assert.deepEqual(await keysOf('preview_cards'), [`preview_cards/images/000/000/${card.padStart(3, '0')}/original/card.jpg`]);
      assert.equal(remoteAccount, '1234');
      assert.equal(remoteMedia, '111677748019200001');
    });

    // A required column gone is not a Mastodon schema we understand.
    await old.client.query('ALTER TABLE backups DROP COLUMN dump_file_name');
    await withDatabase(old.url, async (db) => {
      await assert.rejects(collect(db.rows('backups')), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.code, 'db.missing-column');
        assert.match(error.message, /"backups"\."dump_file_name"/);
        return true;
      });
    });
  } finally {
    await old.drop();
  }
});

// --- connection failures -----------------------------------------------------------------

const password = 'hunter2-Secret_pw';

test('an unreachable port is db.unreachable, one line, without the password', async () => {
  await assert.rejects(MastodonDatabase.connect({ host: '127.0.0.1', port: 1, user: 'postgres', password, database: 'mastodon' }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.code, 'db.unreachable');
    assert.match(error.message, /^cannot reach PostgreSQL at 127\.0\.0\.1:1: .*ECONNREFUSED.* — check \[database\] host\/port/);
    assert.ok(!error.message.includes(password));
    assert.ok(!error.message.includes('\n'));
    return true;
  });
});

test('an unknown database is db.no-database, without the password from the URL', async () => {
  const { host, port, user } = serverSettings();
  const url = `postgres://${user}:${encodeURIComponent(`${password}@/`)}@${host}:${port}/mss_test_does_not_exist`;
  await assert.rejects(MastodonDatabase.connect({ connectionString: url }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.code, 'db.no-database');
    assert.match(error.message, /database "mss_test_does_not_exist" does not exist on PostgreSQL at .* — check \[database\] name \(or the database at the end of url\)$/);
    assert.ok(!error.message.includes(password));
    return true;
  });
});

test('an unknown host is db.unreachable', async () => {
  await assert.rejects(MastodonDatabase.connect({ host: 'no-such-host.invalid', port: 5432, user: 'postgres', password }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.code, 'db.unreachable');
    assert.match(error.message, /^cannot reach PostgreSQL at no-such-host\.invalid:5432: /);
    return true;
  });
});

test('authentication failures map to db.auth and never echo the password', () => {
  // The scratch server trusts every local connection, so the server's own error is built here.
  const target = { host: 'db.example', port: 5433, user: 'mastodon', database: 'mastodon_production', secrets: [password] };
  for (const code of ['28P01', '28000']) {
    const serverError = new pg.DatabaseError(`password authentication failed for user "mastodon" (tried ${password})`, 0, 'error');
    serverError.code = code;
    const error = connectError(serverError, target);
    assert.equal(error.code, 'db.auth');
    assert.equal(
      error.message,
      'PostgreSQL at db.example:5433 rejected user "mastodon": password authentication failed for user "mastodon" (tried ***) — check [database] user and password',
    );
  }
});

test('a pooler refusing the read-only startup option maps to db.pooler', () => {
  const target = { host: '127.0.0.1', port: 6432, user: 'mastodon', database: 'mastodon_production', secrets: [password] };
  const poolerError = new pg.DatabaseError('unsupported startup parameter: options', 0, 'error');
  poolerError.code = '08P01';
  const error = connectError(poolerError, target);
  assert.equal(error.code, 'db.pooler');
  assert.match(error.message, /^cannot open a read-only session through 127\.0\.0\.1:6432: .* not at PgBouncer$/);
});
