/** The authenticate decision (core/authenticate.ts) against the shared table of cases; the engines run the same table in test/store.test.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAuthentication } from '../src/core/authenticate.js';
import { hashKey } from '../src/core/keys.js';
import { AUTH_CASES, checkCase, pureSubject, runCase } from './store/authenticate-cases.js';

describe('decideAuthentication: the table of cases', () => {
  for (const c of AUTH_CASES) {
    it(c.name, async () => checkCase(c, await runCase(c, pureSubject(Date.UTC(2026, 10, 21)), 'S'.repeat(43))));
  }
});

describe('decideAuthentication: a role change', () => {
  it('rotates ONCE with no grace: the presented key heads the superseded ones, the offered key is current', () => {
    const now = Date.UTC(2026, 10, 21);
    const session = {
      id: 'S'.repeat(43), client: 'web', rotation: 'per-request' as const, queue: false, idleTimeout: 60, lifespan: 3600,
      createdAt: now, lastAccessAt: now, nextTimeout: now + 60_000, expiresAt: now + 3600_000, user: { name: 'alice', roles: ['buyer'] },
    };
    const keys = { keyHash: hashKey('k1'), superseded: hashKey('k0'), graceUntil: 0, graceSalt: null };
    const d = decideAuthentication({
      stored: { session, keys }, presented: hashKey('k1'), client: 'web', rotation: { keyHash: hashKey('k2'), salt: Buffer.alloc(16) },
      graceMs: 10_000, now, pending: { name: 'alice', roles: ['buyer', 'vip'] },
    });
    assert.equal(d.outcome, 'current');
    if (d.outcome !== 'current') return;
    assert.equal(d.privilegeChanged, true);
    assert.deepEqual(d.keys, { keyHash: hashKey('k2'), superseded: Buffer.concat([hashKey('k1'), hashKey('k0')]), graceUntil: 0, graceSalt: null });
    assert.deepEqual(d.session.user, { name: 'alice', roles: ['buyer', 'vip'] });
    assert.equal(d.dropPending, true);
  });

  it('drops a stale role change (made for another user name) without applying it', () => {
    const now = Date.UTC(2026, 10, 21);
    const session = {
      id: 'S'.repeat(43), client: 'web', rotation: 'on-privilege-change' as const, queue: false, idleTimeout: 60, lifespan: 3600,
      createdAt: now, lastAccessAt: now, nextTimeout: now + 60_000, expiresAt: now + 3600_000, user: { name: 'bob', roles: [] },
    };
    const d = decideAuthentication({
      stored: { session, keys: { keyHash: hashKey('k1'), superseded: Buffer.alloc(0), graceUntil: 0, graceSalt: null } },
      presented: hashKey('k1'), client: null, rotation: { keyHash: hashKey('k2'), salt: Buffer.alloc(16) },
      graceMs: 10_000, now, pending: { name: 'alice', roles: ['vip'] },
    });
    assert.equal(d.outcome, 'current');
    if (d.outcome !== 'current') return;
    assert.deepEqual([d.privilegeChanged, d.dropPending, d.keys, d.session.user], [false, true, null, { name: 'bob', roles: [] }]);
  });
});
