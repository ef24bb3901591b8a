import pg from 'pg';
import { MastodonDatabase } from '/work/main/src/mastodon/database.ts';
import { selectPageSql } from '/work/main/src/mastodon/row-sql.ts';
const db = await MastodonDatabase.connect({ connectionString: 'postgres://postgres@127.0.0.1:5432/mss_exp_enum' });
const schema = await db.jobSchema('media_attachments');
const q = selectPageSql(schema, { afterId: '500000' }, 2000);
console.log(q.text);
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/mss_exp_enum' }); await c.connect();
const mid = (await c.query('select id::text from media_attachments order by id offset 500000 limit 1')).rows[0].id;
const r = await c.query('EXPLAIN ANALYZE ' + q.text, [mid, 2000]);
console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
let t = performance.now(); let n = 0;
for await (const page of db.rows('media_attachments')) { n += page.length; }
console.log('rows()', n, ((performance.now() - t) / 1000).toFixed(2), 's');
await c.end(); await db.close();
