import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKey } from '../../src/core/keys.js';
import { AUTH_CASES, checkCase, runCase, storeSubject } from './authenticate-cases.js';
import { names, withStore, write } from './fixture.js';
import { newSessionId } from '../../src/core/keys.js';

const auth = (id: string, key: string) => ({ id, keyHash: hashKey(key), client: 'web', rotation: null, graceMs: 0 });

export function sessionsSuite(engine: string): void {
  describe('sessions', () => {
    it('answers every case of the authenticate table (test/store/authenticate-cases.ts)', async () => {
      const failed: string[] = [];
      for (const c of AUTH_CASES) {
        await withStore(engine, async ({ store, clock }) => {
          try {
            checkCase(c, await runCase(c, storeSubject(store, clock), newSessionId()));
          } catch (e) {
            failed.push(`${c.name}: ${(e as Error).message.split('\n').slice(0, 12).join(' ')}`);
          }
        });
      }
      assert.deepEqual(failed, []);
    });

    it('reads a session while it lives, by the store clock, before any sweep', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session();
      assert.equal((await store.getSession(id))?.id, id);
      assert.equal(await store.getSession(newSessionId()), null);
      clock.advance(60_000);
      assert.equal(await store.getSession(id), null, 'expired at its next timeout');
    }));

    it('touchSession records an access without a key; the key stays', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session();
      clock.advance(50_000);
      const touched = await store.touchSession(id);
      assert.deepEqual([touched?.lastAccessAt, touched?.nextTimeout], [clock(), clock() + 60_000]);
      clock.advance(50_000);
      assert.equal((await store.authenticate(auth(id, 'k0'))).outcome, 'current', 'alive, same key');
      assert.equal(await store.touchSession(newSessionId()), null);
    }));

    it('sweepExpired reports each expired session once, with the holds it released', async () => withStore(engine, async ({ store, clock, session }) => {
      const [a, b, c] = [await session(), await session(), await session()];
      await store.holdResources(a, ['seat:1'], 600_000);
      clock.advance(30_000);
      await store.authenticate(auth(c, 'k0')); // c stays alive
      clock.advance(31_000);
      const swept = await store.sweepExpired(100);
      assert.deepEqual(swept.map((s) => s.id).sort(), [a, b].sort());
      assert.deepEqual(names(swept.find((s) => s.id === a)!.releasedHolds), ['seat:1']);
      assert.deepEqual(await store.sweepExpired(100), [], 'reported once');
      assert.equal((await store.getSession(c))?.id, c);
      assert.equal((await store.holdResources(c, ['seat:1'], 60_000))[0].sessionId, c, 'the released hold is free');
    }));

    it('sweepExpired takes at most `limit` sessions a call', async () => withStore(engine, async ({ store, clock, session }) => {
      for (let i = 0; i < 5; i++) await session();
      clock.advance(61_000);
      const first = await store.sweepExpired(3);
      const rest = await store.sweepExpired(3);
      assert.equal(first.length, 3);
      assert.equal(rest.length, 2);
    }));

    it('endSession removes the session with its records and releases its holds; claims stay', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('cart', null, [1]));
      await store.holdResources(id, ['seat:1', 'seat:2'], 60_000);
      await store.confirmHolds(id, ['seat:2']);
      const ended = await store.endSession(id);
      assert.deepEqual(names(ended!.releasedHolds), ['seat:1']);
      assert.equal(await store.endSession(id), null);
      assert.equal((await store.authenticate(auth(id, 'k0'))).outcome, 'invalid');
      const other = await session();
      await store.holdResources(other, ['seat:1'], 60_000);
      await assert.rejects(store.holdResources(other, ['seat:2'], 60_000), { code: 'HOLD_CONFLICT' }, 'the claim outlives its session');
    }));

    it('changePrivilege sets the user and replaces the key with no grace', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      const s = await store.changePrivilege(id, { keyHash: hashKey('k1'), salt: Buffer.alloc(16, 1) }, { name: 'alice', roles: ['buyer'] });
      assert.deepEqual(s?.user, { name: 'alice', roles: ['buyer'] });
      assert.equal((await store.authenticate(auth(id, 'k1'))).outcome, 'current');
      assert.equal((await store.authenticate(auth(id, 'k0'))).outcome, 'replayed');
      assert.equal(await store.changePrivilege(id, { keyHash: hashKey('k2'), salt: Buffer.alloc(16) }, null), null, 'gone after the replay');
    }));

    it('transferSession moves records, holds and claims to a new id and key; the old id is gone', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('cart', null, [1]));
      await store.holdResources(id, ['seat:1', 'seat:2'], 60_000);
      await store.confirmHolds(id, ['seat:2']);
      const to = newSessionId();
      assert.equal((await store.transferSession(id, to, hashKey('t0')))?.id, to);
      assert.equal(await store.getSession(id), null);
      assert.equal((await store.authenticate(auth(to, 't0'))).outcome, 'current');
      assert.deepEqual(names(await store.listRecords(to)), ['cart']);
      const holds = await store.readHolds(to);
      assert.deepEqual([names(holds.live), names(holds.claims)], [['seat:1'], ['seat:2']]);
      assert.equal(await store.transferSession(id, newSessionId(), hashKey('x')), null);
    }));
  });
}
