import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { LogTail, teeToLogTail } from '../../src/web/log-tail.js';

test('keeps whole lines across chunk boundaries, oldest first', async () => {
  const tail = new LogTail(10);
  tail.write('first li');
  tail.write('ne\nsecond line\nthi');
  tail.end('rd line');
  await once(tail, 'finish');
  assert.deepEqual(
    tail.lines().map((line) => line.line),
    ['first line', 'second line', 'third line'],
  );
  assert.deepEqual(
    tail.lines().map((line) => line.seq),
    [1, 2, 3],
  );
});

test('keeps only the last `capacity` lines and hands out what is newer than a seq', () => {
  const tail = new LogTail(3);
  for (let index = 1; index <= 7; index += 1) tail.append(`line ${index}\n`);
  assert.deepEqual(
    tail.lines().map((line) => line.line),
    ['line 5', 'line 6', 'line 7'],
  );
  assert.deepEqual(
    tail.lines(2).map((line) => line.line),
    ['line 6', 'line 7'],
  );
  assert.deepEqual(
    tail.since(5).map((line) => line.line),
    ['line 6', 'line 7'],
  );
  assert.deepEqual(tail.since(7), []);
  assert.equal(tail.lastSeq, 7);
});

test('strips terminal colours and skips blank lines', () => {
  const tail = new LogTail();
  tail.append('\u001b[32mINFO\u001b[39m: copied\r\n\n   \n');
  assert.deepEqual(
    tail.lines().map((line) => line.line),
    ['INFO: copied'],
  );
});

test('a real pino logger teed into the tail: both get every line, credentials redacted', async () => {
  for (const json of [true, false]) {
    const stderr = new PassThrough();
    let written = '';
    stderr.setEncoding('utf8').on('data', (chunk: string) => (written += chunk));
    const tail = new LogTail();
    const log = await createLogger({ json, level: 'info', destination: teeToLogTail(stderr, tail) });
    log.info({ job: 'accounts', password: 'hunter2', source: { secretAccessKey: 'AKIA-SECRET' } }, 'copying accounts');
    log.warn('slow down');
    log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    const lines = tail.lines().map((line) => line.line);
    assert.ok(lines.some((line) => line.includes('copying accounts')), `json=${json}: ${lines.join('\n')}`);
    assert.ok(lines.some((line) => line.includes('slow down')));
    assert.ok(!lines.join('\n').includes('hunter2') && !lines.join('\n').includes('AKIA-SECRET'), 'a secret reached the tail');
    assert.ok(written.includes('copying accounts') && written.includes('slow down'), 'the primary stream lost lines');
    if (json) assert.equal(JSON.parse(lines[0]!).msg, 'copying accounts');
  }
});
