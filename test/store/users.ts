import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKey } from '../../src/core/keys.js';
import { withStore } from './fixture.js';

const next = (k: string) => ({ keyHash: hashKey(k), salt: Buffer.alloc(16, 7) });

export function usersSuite(engine: string): void {
  describe('users', () => {
    it('login checks the password hash in the same step; the user index lists exactly the live sessions', async () => withStore(engine, async ({ store, clock, session }) => {
      assert.equal((await store.putUser('alice', { passwordHash: 'h1', roles: ['buyer'] })).created, true);
      const [a, b] = [await session('k0', 3600), await session('k0', 60)];
      assert.deepEqual(await store.loginUser(a, next('a1'), 'alice', 'stale'), { outcome: 'user_changed' });
      assert.equal((await store.loginUser(a, next('a1'), 'alice', 'h1')).outcome, 'ok');
      assert.equal((await store.loginUser(b, next('b1'), 'alice', 'h1')).outcome, 'ok');
      assert.deepEqual((await store.listSessions('alice', null, 10)).map((s) => s.id).sort(), [a, b].sort());
      clock.advance(61_000);
      assert.deepEqual((await store.listSessions('alice', null, 10)).map((s) => s.id), [a], 'an expired session leaves the index before any sweep');
    }));

    it('a transferred session stays in its user\'s index under its new id', async () => withStore(engine, async ({ store, session }) => {
      await store.putUser('alice', { passwordHash: 'h1', roles: [] });
      const a = await session();
      await store.loginUser(a, next('a1'), 'alice', 'h1');
      const to = 'T'.repeat(43);
      await store.transferSession(a, to, hashKey('t0'));
      assert.deepEqual((await store.listSessions('alice', null, 10)).map((s) => s.id), [to]);
      assert.deepEqual((await store.endUserSessions('alice')).map((s) => s.id), [to]);
    }));

    it("a new password ends the user's sessions in the same step", async () => withStore(engine, async ({ store, session }) => {
      await store.putUser('alice', { passwordHash: 'h1', roles: [] });
      const a = await session();
      await store.loginUser(a, next('a1'), 'alice', 'h1');
      const put = await store.putUser('alice', { passwordHash: 'h2' });
      assert.deepEqual(put.ended.map((s) => s.id), [a]);
      assert.equal(await store.getSession(a), null);
      assert.deepEqual(await store.listSessions('alice', null, 10), []);
    }));
  });
}
