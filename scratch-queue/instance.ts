import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { insertMediaAttachment } from '../test/helpers/postgres.js';
import { createTestInstance } from '../test/helpers/test-instance.js';

const rows = Number(process.argv[2] ?? 30);
const size = Number(process.argv[3] ?? 32768);
const instance = await createTestInstance();
const db = instance.database.client;
const puts: Promise<void>[] = [];
for (let row = 0; row < rows; row += 1) {
  const id = String(300_000 + row);
  const name = `${randomBytes(8).toString('hex')}.jpeg`;
  await insertMediaAttachment(db, { id, file_file_name: name, file_content_type: 'image/jpeg', type: 0 });
  for (const [style, s] of [['original', size], ['small', Math.ceil(size / 4)]] as const) {
    puts.push(instance.seed(`media_attachments/files/000/${id.slice(0, 3)}/${id.slice(3)}/${style}/${name}`, randomBytes(s), { contentType: 'image/jpeg' }));
    if (puts.length >= 64) await Promise.all(puts.splice(0));
  }
}
await Promise.all(puts);
const config = await instance.writeConfig({ sync: { concurrency: 16 }, queue: { url: 'redis://127.0.0.1:6379', prefix: 'mss-scratch' } }, 'scratch.ini');
writeFileSync('scratch-queue/config-path', config);
console.log(config);
process.on('SIGINT', async () => { await instance.close(); process.exit(0); });
setInterval(() => {}, 1000);
