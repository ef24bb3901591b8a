import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObjectEvent, Outcome } from '../../src/stats/run-stats.js';
import { HeldAbsences } from '../../src/sync/held-absences.js';

const event = (key: string, outcome: Outcome, extra: Partial<ObjectEvent> = {}): ObjectEvent => ({ job: 'media_attachments', key, outcome, bytes: 0, ...extra });

test('absences wait for the first object found in [source], then reach the journal before it; failures go at once', () => {
  const recorded: string[] = [];
  const absences = new HeldAbsences((held) => recorded.push(`${held.outcome} ${held.key}`));
  absences.outcome(event('a', 'missing'));
  absences.outcome(event('b', 'failed'));
  absences.outcome(event('c', 'absent-style'));
  // The destination has it and the source does not: no sign the source holds anything.
  absences.outcome(event('d', 'skipped', { notInSource: true }));
  assert.deepEqual(recorded, ['failed b', 'skipped d']);
  assert.equal(absences.noneFound, 2);
  absences.outcome(event('e', 'copied'));
  absences.outcome(event('f', 'missing'));
  assert.deepEqual(recorded, ['failed b', 'skipped d', 'missing a', 'absent-style c', 'copied e', 'missing f']);
  assert.equal(absences.noneFound, undefined);
});

test('past 50,000 held absences the rest are dropped, not held: the next run asks about them again', () => {
  const recorded: string[] = [];
  const absences = new HeldAbsences((held) => recorded.push(held.key));
  for (let index = 0; index <= 50_000; index += 1) absences.outcome(event(`k${index}`, 'missing'));
  assert.equal(absences.noneFound, 50_001);
  absences.outcome(event('found', 'skipped'));
  assert.equal(recorded.length, 50_001);
  assert.equal(recorded.at(-2), 'k49999');
  assert.equal(recorded.at(-1), 'found');
});

test('a run that writes no journal still learns whether [source] held anything', () => {
  const absences = new HeldAbsences(undefined);
  assert.equal(absences.noneFound, undefined, 'nothing asked');
  absences.outcome(event('a', 'missing'));
  assert.equal(absences.noneFound, 1);
});
