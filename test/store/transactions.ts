import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { names, withStore, write } from './fixture.js';

const T = 30_000;
const value = async (p: Promise<{ value: string }[]>) => (await p).map((r) => JSON.parse(r.value));

export function transactionsSuite(engine: string): void {
  describe('transactions', () => {
    it('commit: buffered writes are seen by the session, and written at the outermost commit', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('cart', null, 'before'));
      assert.equal(await store.openTransaction(id, T, 3), 1);
      await store.putRecord(id, write('cart', null, 'in 1'));
      assert.equal(await store.openTransaction(id, T, 3), 2);
      await store.putRecord(id, write('note', null, 'in 2'));
      assert.deepEqual(await value(store.listRecords(id)), ['in 1', 'in 2'], 'the session sees its scopes overlaid');
      assert.equal(await store.commitTransaction(id, T), 1, 'merged into its parent');
      assert.equal(await store.commitTransaction(id, T), 0);
      assert.deepEqual(await value(store.listRecords(id)), ['in 1', 'in 2']);
      assert.equal((await store.getRecord(id, 'cart'))[0].version, 2);
      await assert.rejects(store.commitTransaction(id, T), { code: 'TRANSACTION_NOT_OPEN' });
    }));

    it('rollback: the innermost scope (or all) is discarded, with the holds taken in it', async () => withStore(engine, async ({ store, session }) => {
      const id = await session();
      await store.putRecord(id, write('cart', null, 'before'));
      await store.openTransaction(id, T, 3);
      await store.putRecord(id, write('cart', null, 'in 1'));
      await store.openTransaction(id, T, 3);
      await store.deleteRecord(id, 'cart', null, null);
      const held = await store.holdResources(id, ['seat:1'], 60_000);
      await store.noteTransactionHolds(id, held, null);
      assert.deepEqual(await store.getRecord(id, 'cart'), []);
      const inner = await store.rollbackTransaction(id, false, T);
      assert.deepEqual([inner.depth, names(inner.released)], [1, ['seat:1']]);
      assert.deepEqual(await value(store.getRecord(id, 'cart')), ['in 1']);
      assert.equal((await store.rollbackTransaction(id, true, T)).depth, 0);
      assert.deepEqual(await value(store.getRecord(id, 'cart')), ['before']);
      assert.deepEqual((await store.readHolds(id)).live, []);
      await assert.rejects(store.rollbackTransaction(id, false, T), { code: 'TRANSACTION_NOT_OPEN' });
    }));

    it('past the deadline the scopes roll back: the next enterTransactions reports it once', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.openTransaction(id, T, 3);
      await store.putRecord(id, write('cart', null, 'in 1'));
      assert.deepEqual(await store.enterTransactions(id, T), { depth: 1, aborted: false, released: [] });
      clock.advance(T + 1);
      const entered = await store.enterTransactions(id, T);
      assert.deepEqual([entered.depth, entered.aborted], [0, true]);
      assert.deepEqual([(await store.enterTransactions(id, T)).aborted], [false], 'reported once');
      assert.deepEqual(await store.listRecords(id), []);
    }));

    it('sweepExpiredTransactions rolls back idle scopes, each session once', async () => withStore(engine, async ({ store, clock, session }) => {
      const [a, b] = [await session('k0', 3600), await session('k0', 3600)];
      await store.openTransaction(a, T, 3);
      const held = await store.holdResources(a, ['seat:1'], 600_000);
      await store.noteTransactionHolds(a, held, null);
      clock.advance(T / 2);
      await store.openTransaction(b, T, 3);
      clock.advance(T / 2 + 1);
      const swept = await store.sweepExpiredTransactions(100);
      assert.deepEqual(swept.map((s) => [s.sessionId, names(s.released)]), [[a, ['seat:1']]]);
      assert.deepEqual(await store.sweepExpiredTransactions(100), []);
      assert.equal((await store.enterTransactions(a, T)).aborted, true, 'the abort is told to its next request');
      assert.equal((await store.enterTransactions(b, T)).depth, 1);
    }));
  });
}
