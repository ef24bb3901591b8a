import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { createDurableInstance, type DurableInstance } from '../test/durability/durable-instance.js';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
let instance: DurableInstance;
before(async () => { instance = await createDurableInstance({ rows: 120, size: 16_384 }); });
after(() => instance.close());
async function clear() {
  const keys = await instance.destinationKeys();
  if (keys.length) await instance.destination.send(new DeleteObjectsCommand({ Bucket: 'new-media', Delete: { Objects: keys.map(Key => ({ Key })) } }));
}
function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve) => { const c = spawn(process.execPath, [bin, ...args]); let e = ''; c.stderr.on('data', d => e += d); c.stdout.on('data', d => e += d); c.on('close', () => resolve(e)); });
}
test('timing', async () => {
  const cfg = await instance.writeConfig({ sync: { concurrency: 16 } }, 'd.ini');
  for (const [name, bin, args] of [
    ['orig', '/tmp/orig/bin/mastodon-s3-sync.js', []],
    ['new nostate', '/work/main/bin/mastodon-s3-sync.js', ['--no-state']],
    ['new', '/work/main/bin/mastodon-s3-sync.js', ['--state', `/tmp/st-${Date.now()}.sqlite`]],
    ['orig', '/tmp/orig/bin/mastodon-s3-sync.js', []],
  ] as const) {
    await clear();
    const t = Date.now();
    const out = await run(bin, ['sync', 'media_attachments', '--config', cfg, '--json', ...args]);
    console.log(name, 'ms', Date.now() - t, out.split('\n').filter(l => l.includes('"msg"')).map(l => { const j = JSON.parse(l); return j.time + ' ' + j.msg.slice(0, 50); }).join(' | '));
  }
});
