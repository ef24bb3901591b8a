// The loop both reference copiers (bare-copy.mjs, lean-copy.mjs) run: `concurrency` workers over
// the key list, each key tried up to three times, as any copier would (a streamed body cannot be
// replayed by the SDK's own retries). Only `copy(key)`, which resolves to the bytes copied, differs.
import { readFile } from 'node:fs/promises';

export async function copyEveryKey({ keysFile, concurrency, label, copy }) {
  const keys = (await readFile(keysFile, 'utf8')).split('\n').filter((line) => line !== '');
  let next = 0;
  let objects = 0;
  let bytes = 0;
  let failed = 0;
  async function worker() {
    for (;;) {
      const key = keys[next++];
      if (key === undefined) return;
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        try {
          // Awaited first: `bytes += await …` would read `bytes` before the wait and lose other workers' sums.
          const copied = await copy(key);
          bytes += copied;
          objects += 1;
          break;
        } catch (error) {
          process.stderr.write(`${label}: ${key} (try ${attempt}): ${String(error)}\n`);
          if (attempt === 3) failed += 1;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { objects, bytes, failed };
}
