import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { AdaptiveConcurrency } from '../../src/transfer/adaptive-concurrency.js';
import { isThrottlingError } from '../../src/transfer/throttling.js';

describe('adaptive concurrency (AIMD)', () => {
  test('throttling halves the limit (never below 1), at most once per cooldown', () => {
    let now = 0;
    const changes: string[] = [];
    const limiter = new AdaptiveConcurrency({ max: 16, cooldownMs: 1000, now: () => now, onChange: (limit, reason) => changes.push(`${reason} ${limit}`) });
    limiter.throttled();
    limiter.throttled();
    assert.equal(limiter.limit, 8, 'the second 503 of the same burst does not halve again');
    for (const expected of [4, 2, 1, 1]) {
      now += 1000;
      limiter.throttled();
      assert.equal(limiter.limit, expected);
    }
    assert.deepEqual(changes, ['throttled 8', 'throttled 4', 'throttled 2', 'throttled 1']);
  });

  test('a run of `limit` successes raises the limit by one, up to the maximum', () => {
    const limiter = new AdaptiveConcurrency({ max: 4, now: () => 0 });
    limiter.throttled();
    assert.equal(limiter.limit, 2);
    limiter.succeeded();
    assert.equal(limiter.limit, 2);
    limiter.succeeded();
    assert.equal(limiter.limit, 3);
    for (let i = 0; i < 3; i += 1) limiter.succeeded();
    assert.equal(limiter.limit, 4);
    for (let i = 0; i < 10; i += 1) limiter.succeeded();
    assert.equal(limiter.limit, 4, 'never above the configured concurrency');
  });

  test('at most `limit` operations run at once; the others wait their turn in order', async () => {
    const limiter = new AdaptiveConcurrency({ max: 4, now: () => 0 });
    limiter.throttled();
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const work = (id: number): Promise<void> =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(id);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
      });
    const all = Promise.all([1, 2, 3, 4, 5].map(work));
    await tick();
    assert.equal(running, 2);
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await tick();
      await tick();
    }
    await all;
    assert.equal(peak, 2);
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
  });

  test('503, 429 and SlowDown are throttling; 500, resets and 403 are not', () => {
    assert.equal(isThrottlingError({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), true);
    assert.equal(isThrottlingError({ name: 'Unknown', $metadata: { httpStatusCode: 429 } }), true);
    assert.equal(isThrottlingError(new Error('wrapped', { cause: { name: 'SlowDown' } })), true);
    assert.equal(isThrottlingError({ name: 'InternalError', $metadata: { httpStatusCode: 500 } }), false);
    assert.equal(isThrottlingError({ code: 'ECONNRESET' }), false);
    assert.equal(isThrottlingError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), false);
  });
});
