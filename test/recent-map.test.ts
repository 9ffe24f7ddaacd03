import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentMap } from '../src/core/recent-map.js';

test('RecentMap keeps the most recent entries, at most its limit, and forgets deleted ones', () => {
  const m = new RecentMap<number, string>(10);
  for (let i = 0; i < 100; i++) m.set(i, `v${i}`);
  assert.ok(m.size <= 10, `size ${m.size}`);
  for (let i = 95; i < 100; i++) assert.equal(m.get(i), `v${i}`); // the newest half is always kept
  assert.equal(m.get(0), undefined);
  m.delete(99);
  assert.equal(m.get(99), undefined);
  m.set(97, 'again'); // a set of a kept key replaces it, in either generation
  assert.equal(m.get(97), 'again');
});
