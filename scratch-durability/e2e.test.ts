import { after, before, test } from 'node:test';
import { runCli } from '../test/helpers/cli.js';
import { createDurableInstance, perObjectRequests, type DurableInstance } from '../test/durability/durable-instance.js';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { rmSync } from 'node:fs';
let instance: DurableInstance;
const rows = 1000;
before(async () => { instance = await createDurableInstance({ rows, size: 2048 }); });
after(() => instance.close());
async function clear() {
  let keys = await instance.destinationKeys();
  while (keys.length) { await instance.destination.send(new DeleteObjectsCommand({ Bucket: 'new-media', Delete: { Objects: keys.splice(0, 1000).map(Key => ({ Key })) } })); }
}
test('timing', async () => {
  const direct = await instance.writeConfig({ sync: { concurrency: 16 } }, 'direct.ini');
  const proxied = await instance.proxiedConfig({ concurrency: 16 }, 'proxied.ini');
  for (let round = 0; round < 3; round++) {
    for (const mode of ['state', 'no-state'] as const) {
      await clear();
      const state = `/tmp/e2e-${round}-${mode}.sqlite`; rmSync(state, { force: true });
      const args = mode === 'state' ? ['--state', state] : ['--no-state'];
      let t = Date.now();
      const r = await runCli(['sync', 'media_attachments', '--config', direct, '--json', ...args]);
      const first = Date.now() - t;
      t = Date.now();
      const r2 = await runCli(['sync', 'media_attachments', '--config', direct, '--json', ...args]);
      const second = Date.now() - t;
      console.log(`round ${round} ${mode}: first copy ${first} ms (exit ${r.code}), re-run ${second} ms (exit ${r2.code})`);
    }
  }
  // request counts through the proxies
  await clear();
  const state = '/tmp/e2e-proxied.sqlite'; rmSync(state, { force: true });
  for (const [name, args] of [['first', ['--state', state]], ['re-run', ['--state', state]], ['re-run --inventory', ['--state', state, '--inventory']], ['re-run --no-state', ['--no-state']]] as const) {
    const s0 = instance.sourceProxy.requests.length, d0 = instance.destinationProxy.requests.length;
    const t = Date.now();
    await runCli(['sync', 'media_attachments', '--config', proxied, '--json', ...args]);
    const src = instance.sourceProxy.requests.slice(s0), dst = instance.destinationProxy.requests.slice(d0);
    console.log(`${name}: ${Date.now() - t} ms; source ${src.length} requests (${perObjectRequests(src).length} per-object), destination ${dst.length} requests (${perObjectRequests(dst).length} per-object, ${dst.filter(r => /list-type/.test(r.query)).length} listings)`);
  }
});
