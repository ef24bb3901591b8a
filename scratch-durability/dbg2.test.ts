import { after, before, test } from 'node:test';
import { runCli } from '/work/main/test/helpers/cli.js';
import { createDurableInstance, type DurableInstance } from '/work/main/test/durability/durable-instance.js';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
let instance: DurableInstance;
before(async () => { instance = await createDurableInstance({ rows: 120, size: 16_384 }); });
after(() => instance.close());
async function clear() {
  const keys = await instance.destinationKeys();
  if (keys.length) await instance.destination.send(new DeleteObjectsCommand({ Bucket: 'new-media', Delete: { Objects: keys.map(Key => ({ Key })) } }));
}
test('timing', async () => {
  for (const [name, cfg, args] of [
    ['proxied c4', await instance.proxiedConfig({ concurrency: 4 }, 'a.ini'), []],
    ['proxied c4 nostate', await instance.proxiedConfig({ concurrency: 4 }, 'b.ini'), ['--no-state']],
    ['direct c4', await instance.writeConfig({ sync: { concurrency: 4 } }, 'c.ini'), []],
    ['direct c16', await instance.writeConfig({ sync: { concurrency: 16 } }, 'd.ini'), []],
    ['direct c16 nostate', await instance.writeConfig({ sync: { concurrency: 16 } }, 'e.ini'), ['--no-state']],
  ] as const) {
    await clear();
    const t = Date.now();
    const r = await runCli(['sync', 'media_attachments', '--config', cfg, '--json', '--state', `/tmp/st-${Date.now()}.sqlite`, ...args]);
    console.log(name, 'ms', Date.now() - t, r.code);
  }
});
