import assert from 'node:assert/strict';
import { test } from 'node:test';
import { counted } from '../../src/log.js';

test('counts in messages agree with their noun: "1 object", never "1 objects"', () => {
  assert.equal(counted(1, 'object'), '1 object');
  assert.equal(counted(0, 'object'), '0 objects');
  assert.equal(counted(2, 'failed task'), '2 failed tasks');
  assert.equal(counted(1, 'prefix', 'prefixes'), '1 prefix');
  assert.equal(counted(3, 'prefix', 'prefixes'), '3 prefixes');
});
