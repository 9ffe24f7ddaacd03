import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withStore, write } from './fixture.js';

const values = (rs: { key: string | null; value: string; version: number }[]) => rs.map((r) => [r.key, JSON.parse(r.value), r.version]);

export function recordsSuite(engine: string): void {
  describe('records', () => {
    it('the version rule: each write adds one; ifVersion must match the live version (0: absent)', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      assert.equal((await store.putRecord(id, write('cart', null, 'a', { ifVersion: 0 }))).version, 1);
      assert.equal((await store.putRecord(id, write('cart', null, 'b'))).version, 2);
      await assert.rejects(store.putRecord(id, write('cart', null, 'c', { ifVersion: 1 })), { code: 'VERSION_MISMATCH' });
      await assert.rejects(store.putRecord(id, write('cart', null, 'c', { ifVersion: 0 })), { code: 'VERSION_MISMATCH' });
      assert.equal((await store.putRecord(id, write('cart', null, 'c', { ifVersion: 2 }))).version, 3);
      assert.deepEqual(values(await store.getRecord(id, 'cart')), [[null, 'c', 3]]);
      await assert.rejects(store.deleteRecord(id, 'cart', null, 2), { code: 'VERSION_MISMATCH' });
      assert.equal(await store.deleteRecord(id, 'cart', null, 3), true);
      assert.equal(await store.deleteRecord(id, 'cart', null, null), false);
      assert.equal((await store.putRecord(id, write('cart', null, 'd'))).version, 1, 'a record written anew starts again');
    }));

    it('a multiple record: entries by key, each with its version; kinds do not mix', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('prefs', 'theme', 'dark'));
      await store.putRecord(id, write('prefs', 'lang', 'fr'));
      await store.putRecord(id, write('prefs', 'lang', 'de'));
      assert.deepEqual(values(await store.getRecord(id, 'prefs')), [['lang', 'de', 2], ['theme', 'dark', 1]]);
      await assert.rejects(store.putRecord(id, write('prefs', null, 'x')), { code: 'INVALID_REQUEST' });
      assert.equal(await store.deleteRecord(id, 'prefs', 'theme', null), true);
      assert.deepEqual(values(await store.listRecords(id)), [['lang', 'de', 2]]);
    }));

    it('limits: entries per record and records per session', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('a', 'x', 1, { maxEntries: 2 }));
      await store.putRecord(id, write('a', 'y', 1, { maxEntries: 2 }));
      await assert.rejects(store.putRecord(id, write('a', 'z', 1, { maxEntries: 2 })), { code: 'LIMIT_EXCEEDED' });
      await store.putRecord(id, write('a', 'y', 2, { maxEntries: 2 })); // an existing entry may change
      await store.putRecord(id, write('b', null, 1, { maxRecords: 2 }));
      await assert.rejects(store.putRecord(id, write('c', null, 1, { maxRecords: 2 })), { code: 'LIMIT_EXCEEDED' });
    }));

    it('a record with a ttl expires by the store clock; touchRecords restarts it', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.putRecord(id, write('otp', null, 123, { ttlMs: 10_000 }));
      clock.advance(8_000);
      await store.touchRecords(id);
      clock.advance(8_000);
      assert.equal((await store.getRecord(id, 'otp')).length, 1, 'touched: still live');
      clock.advance(3_000);
      assert.deepEqual(await store.getRecord(id, 'otp'), [], 'expired');
    }));

    it('a record step on an unknown session is SESSION_INVALID', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session();
      clock.advance(60_000);
      await assert.rejects(store.putRecord(id, write('a', null, 1)), { code: 'SESSION_INVALID' });
      await assert.rejects(store.listRecords(id), { code: 'SESSION_INVALID' });
    }));
  });
}
