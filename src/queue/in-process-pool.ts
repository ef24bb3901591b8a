/**
 * Runs `work` over `items` with at most `concurrency` calls in flight, pulling
 * items only as workers free up, so a producer reading millions of rows never
 * runs ahead by more than the pool's width. `shouldStop` is checked before
 * each new item: a graceful stop lets in-flight work finish.
 */
export async function runPool<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let exhausted = false;
  async function worker(): Promise<void> {
    while (!exhausted && !shouldStop()) {
      const next = await iterator.next();
      if (next.done === true) {
        exhausted = true;
        return;
      }
      await work(next.value);
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
