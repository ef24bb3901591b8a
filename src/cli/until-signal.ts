/** Settles at the first SIGINT or SIGTERM: a command that serves until Ctrl-C (a dashboard) waits on it. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done).on('SIGTERM', done);
  });
}
