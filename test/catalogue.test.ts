import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS } from '../src/core/errors.js';

test('docs/errors.md lists exactly the codes and statuses of the catalogue', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(rows, Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
});

test('every code is UPPER_SNAKE and every error status is 4xx or 5xx', () => {
  for (const [code, e] of Object.entries(ERRORS)) {
    assert.match(code, /^[A-Z]+(_[A-Z]+)*$/);
    assert.ok(e.status >= 400 && e.status < 600);
  }
});
