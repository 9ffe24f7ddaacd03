import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKey, newSessionId } from '../../src/core/keys.js';
import type { SessionStore } from '../../src/store/contract.js';
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

    describe('the byte quota (maxRecordBytes: the JSON text of every live value, in UTF-8 bytes)', () => {
      const Q = 10;
      /** A value whose JSON text is n bytes (n >= 2). */
      const text = (n: number) => 'x'.repeat(n - 2);
      const put = (store: SessionStore, id: string, name: string, key: string | null, value: unknown, more: Parameters<typeof write>[3] = {}) =>
        store.putRecord(id, write(name, key, value, { maxRecordBytes: Q, ...more }));
      const all = async (store: SessionStore, id: string) => (await store.listRecords(id)).map((r) => [r.name, r.key, r.value, r.version, r.expiresAt]);
      const refused = { code: 'LIMIT_EXCEEDED', message: `A session holds at most ${Q} bytes of records.`, details: { limit: Q } };

      it('under and at the limit a write passes; over it LIMIT_EXCEEDED and nothing changes', async () => withStore(engine, async ({ store, session }) => {
        const id = await session();
        await put(store, id, 'a', null, text(4));
        await put(store, id, 'b', null, text(5)); // 9: under
        await put(store, id, 'b', null, text(6)); // 10: at the limit (a replaced entry counts its new value)
        const before = await all(store, id);
        await assert.rejects(put(store, id, 'c', null, text(2)), refused);
        await assert.rejects(put(store, id, 'b', null, text(7)), refused);
        await assert.rejects(put(store, id, 'a', null, text(5), { ifVersion: 1 }), refused);
        assert.deepEqual(await all(store, id), before, 'a refused write leaves every record as it was');
        await put(store, id, 'b', null, text(6)); // the same size again: passes
        await put(store, id, 'a', null, 'é'); // "é" is 4 bytes in UTF-8 (3 characters): still 10
        await assert.rejects(put(store, id, 'a', null, 'éx'), refused); // 5 bytes: 11
        assert.equal(await store.deleteRecord(id, 'b', null, null), true);
        await put(store, id, 'c', null, text(6)); // a delete frees its bytes
      }));

      it('replacing a value with a smaller one passes even over the quota (lowered since)', async () => withStore(engine, async ({ store, session }) => {
        const id = await session();
        await put(store, id, 'a', null, text(5));
        await put(store, id, 'b', 'k', text(5)); // 10 bytes held
        const lowered = { maxRecordBytes: 4 };
        await put(store, id, 'a', null, text(3), lowered); // 8 > 4, but it shrinks
        await put(store, id, 'b', 'k', text(5), lowered); // unchanged size: passes
        await assert.rejects(put(store, id, 'b', 'k', text(6), lowered), { code: 'LIMIT_EXCEEDED', details: { limit: 4 } });
        await assert.rejects(put(store, id, 'b', 'j', text(2), lowered), { code: 'LIMIT_EXCEEDED', details: { limit: 4 } });
        await assert.rejects(put(store, id, 'c', null, text(2), lowered), { code: 'LIMIT_EXCEEDED', details: { limit: 4 } });
        assert.deepEqual((await store.listRecords(id)).map((r) => [r.name, r.key, r.value.length, r.version]),
          [['a', null, 3, 2], ['b', 'k', 5, 2]]);
      }));

      it('entries of multiple records count with single records', async () => withStore(engine, async ({ store, session }) => {
        const id = await session();
        await put(store, id, 'bag', 'x', text(4));
        await put(store, id, 'bag', 'y', text(4));
        await put(store, id, 'one', null, text(2)); // 10
        await assert.rejects(put(store, id, 'bag', 'z', text(2)), refused);
        await assert.rejects(put(store, id, 'tags', 't', text(2)), refused);
        await put(store, id, 'bag', 'x', text(2));
        await put(store, id, 'tags', 't', text(2)); // 10 again
        assert.deepEqual((await store.listRecords(id)).map((r) => [r.name, r.key]), [['bag', 'x'], ['bag', 'y'], ['one', null], ['tags', 't']]);
        assert.equal(await store.deleteRecord(id, 'bag', 'y', null), true); // an entry deleted frees its bytes
        await put(store, id, 'bag', 'z', text(3));
        await put(store, id, 'bag', 'x', text(3)); // 10
        await assert.rejects(put(store, id, 'bag', 'x', text(4)), refused);
      }));

      it('expired records and entries do not count', async () => withStore(engine, async ({ store, clock, session }) => {
        const id = await session('k0', 3600);
        await put(store, id, 'otp', null, text(4), { ttlMs: 10_000 });
        await put(store, id, 'bag', 'old', text(4), { ttlMs: 10_000 });
        await put(store, id, 'bag', 'new', text(2)); // 10
        await assert.rejects(put(store, id, 'c', null, text(2)), refused);
        clock.advance(11_000);
        await put(store, id, 'c', null, text(4));
        await put(store, id, 'bag', 'more', text(4)); // 2 + 4 + 4: the expired 8 bytes are gone
        await assert.rejects(put(store, id, 'otp', null, text(2)), refused);
        assert.deepEqual((await store.listRecords(id)).map((r) => [r.name, r.key]), [['bag', 'more'], ['bag', 'new'], ['c', null]]);
      }));

      it('inside a transaction: counts what the session would hold (committed and buffered)', async () => withStore(engine, async ({ store, session }) => {
        const id = await session();
        await put(store, id, 'a', null, text(4));
        await put(store, id, 'bag', 'x', text(2)); // 6 committed
        await store.openTransaction(id, 60_000, 4);
        await put(store, id, 'b', null, text(2)); // buffered: 8
        await store.openTransaction(id, 60_000, 4);
        await put(store, id, 'bag', 'x', text(4)); // 10 as the session sees it
        const before = await all(store, id);
        await assert.rejects(put(store, id, 'bag', 'y', text(2)), refused);
        await assert.rejects(put(store, id, 'b', null, text(3)), refused);
        assert.deepEqual(await all(store, id), before, 'the refused writes buffered nothing');
        assert.equal(await store.deleteRecord(id, 'a', null, null), true); // a delete in the scope frees its bytes
        await put(store, id, 'b', null, text(6));
        await assert.rejects(put(store, id, 'c', null, text(2)), refused);
        assert.equal(await store.commitTransaction(id, 60_000), 1);
        assert.equal(await store.commitTransaction(id, 60_000), 0);
        assert.deepEqual((await store.listRecords(id)).map((r) => [r.name, r.key, r.value.length]), [['b', null, 6], ['bag', 'x', 4]]);
        await assert.rejects(put(store, id, 'c', null, text(2)), refused, 'the committed values count as written');
        await put(store, id, 'bag', 'x', text(2));
        await put(store, id, 'c', null, text(2)); // 10
      }));

      it('a transfer moves the records as they are: the new id holds the same bytes', async () => withStore(engine, async ({ store, session }) => {
        const id = await session();
        await put(store, id, 'a', null, text(4));
        await put(store, id, 'bag', 'x', text(6)); // 10
        const to = newSessionId();
        assert.equal((await store.transferSession(id, to, hashKey('t0')))?.id, to);
        await assert.rejects(put(store, to, 'c', null, text(2)), refused);
        await assert.rejects(put(store, to, 'bag', 'y', text(2)), refused);
        await put(store, to, 'bag', 'x', text(4));
        await put(store, to, 'c', null, text(2)); // 10 again
        await assert.rejects(put(store, to, 'a', null, text(5)), refused);
      }));

      it('a write riding on an authentication is refused the same way: nothing written', async () => withStore(engine, async ({ store, session }) => {
        const id = await session('k0');
        await put(store, id, 'a', null, text(9));
        const auth = await store.authenticate({
          id, keyHash: hashKey('k0'), client: 'web', rotation: null, graceMs: 10_000, write: write('b', null, text(2), { maxRecordBytes: Q }),
        });
        assert.equal(auth.outcome, 'current');
        assert.equal(auth.outcome === 'current' && auth.written, undefined);
        assert.deepEqual((await store.listRecords(id)).map((r) => r.name), ['a']);
        await assert.rejects(put(store, id, 'b', null, text(2)), refused);
      }));
    });

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
