/**
 * Waits for the pool; once `signal` fires, waits at most `graceMs` more. The
 * pool's own failure still surfaces, even after abandonment is decided.
 */
export async function untilDoneOrAbandoned(pool: Promise<void>, signal: AbortSignal | undefined, graceMs: number): Promise<'done' | 'abandoned'> {
  if (signal === undefined) {
    await pool;
    return 'done';
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const grace = new Promise<'abandoned'>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => resolve('abandoned'), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([pool.then(() => 'done' as const), grace]);
    // An abandoned pool may still fail later (its storages are closed under it): nobody is listening then.
    if (result === 'abandoned') pool.catch(() => undefined);
    return result;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
