import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredRecord } from '../../src/store/contract.js';
import { withStore } from './fixture.js';

const items = (n: number, now: number): StoredRecord[] => Array.from({ length: n }, (_, i) => ({
  name: 'list', key: `k${String(i).padStart(2, '0')}`, kind: 'multiple', value: String(i), version: 1, updatedAt: now, ttlMs: null, expiresAt: null,
}));

export function cursorsSuite(engine: string): void {
  describe('cursors', () => {
    it('pages through its snapshot; then closes', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.openCursor(id, { id: 'c1', name: 'list', pageSize: 2, items: items(5, clock()), timeoutMs: 10_000 }, 4);
      const pages = [];
      for (let i = 0; i < 3; i++) {
        const p = await store.readCursor(id, 'c1', null);
        pages.push([p!.items.map((r) => r.key), p!.position, p!.total]);
      }
      assert.deepEqual(pages, [[['k00', 'k01'], 2, 5], [['k02', 'k03'], 4, 5], [['k04'], 5, 5]]);
      assert.equal(await store.readCursor(await session(), 'c1', null), null, "another session's cursor is unknown");
      assert.equal(await store.closeCursor(id, 'c1'), true);
      assert.equal(await store.readCursor(id, 'c1', 1), null);
      assert.equal(await store.closeCursor(id, 'c1'), false);
    }));

    it('a cursor dies unused past its timeout (each read moves it); the sweep counts it once', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.openCursor(id, { id: 'c1', name: 'list', pageSize: 2, items: items(5, clock()), timeoutMs: 10_000 }, 4);
      await store.openCursor(id, { id: 'c2', name: 'list', pageSize: 2, items: items(5, clock()), timeoutMs: 10_000 }, 4);
      clock.advance(8_000);
      assert.equal((await store.readCursor(id, 'c1', 3))!.position, 3);
      clock.advance(8_000);
      assert.equal(await store.sweepExpiredCursors(100), 1);
      assert.equal(await store.sweepExpiredCursors(100), 0);
      assert.equal(await store.readCursor(id, 'c2', null), null);
      assert.equal((await store.readCursor(id, 'c1', null))!.position, 5);
    }));

    it('at most maxCursors per session: LIMIT_EXCEEDED', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session();
      await store.openCursor(id, { id: 'c1', name: 'list', pageSize: 2, items: items(1, clock()), timeoutMs: 10_000 }, 1);
      await assert.rejects(store.openCursor(id, { id: 'c2', name: 'list', pageSize: 2, items: [], timeoutMs: 10_000 }, 1), { code: 'LIMIT_EXCEEDED' });
    }));
  });
}
