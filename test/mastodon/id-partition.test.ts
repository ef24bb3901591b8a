import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idPartition } from '../../src/mastodon/id-partition.js';

test('idPartition follows kt-paperclip: pad to 9 below 10^9, else to 12, drop a short tail', () => {
  const cases: [string, string][] = [
    ['0', '000/000/000'],
    ['1', '000/000/001'],
    ['12345', '000/012/345'],
    ['999999999', '999/999/999'],
    ['1000000000', '001/000/000/000'],
    ['1234567890', '001/234/567/890'],
    ['99999999999', '099/999/999/999'],
    ['123456789012', '123/456/789/012'],
    ['12345678901234567', '123/456/789/012/345'],
    ['109283929999999999', '109/283/929/999/999/999'],
    ['1234567890123456789', '123/456/789/012/345/678'],
  ];
  for (const [id, partition] of cases) assert.equal(idPartition(id), partition, `id ${id}`);
});

test('idPartition keeps 18-digit snowflakes exact (beyond Number.MAX_SAFE_INTEGER)', () => {
  assert.equal(idPartition('113983666634985404'), '113/983/666/634/985/404');
  assert.equal(idPartition('114451757786922201'), '114/451/757/786/922/201');
  // As a Number this id rounds to 110123456789012350, which would end the partition in /350.
  assert.equal(idPartition('110123456789012345'), '110/123/456/789/012/345');
  assert.equal(idPartition('110123456789012999'), '110/123/456/789/012/999');
});

test('idPartition handles leading zeros and the negative instance actor id like Ruby', () => {
  assert.equal(idPartition('000012345'), '000/012/345');
  // Ruby: '%09d' % -99 == "-00000099"; scan(/\d{3}/) skips the sign and the 2-digit tail.
  assert.equal(idPartition('-99'), '000/000');
});

test('idPartition rejects anything but a decimal id', () => {
  assert.throws(() => idPartition('12a'), TypeError);
  assert.throws(() => idPartition(''), TypeError);
  assert.throws(() => idPartition('1e21'), TypeError);
});
