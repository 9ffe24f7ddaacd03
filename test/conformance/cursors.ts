import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionClient, using } from '../helpers/harness.js';

const CURSORS = '/v1/session/cursors';
const TYPES = { records: { results: { kind: 'multiple' }, profile: { kind: 'single' } } };
const key = (i: number) => `k${String(i).padStart(3, '0')}`;

async function fill(s: SessionClient, n: number, name = 'results'): Promise<void> {
  for (let i = n - 1; i >= 0; i--) await s.req('PUT', `/v1/session/records/${name}/${key(i)}`, { value: { i } });
}

const keys = (items: { key: string }[]) => items.map((e) => e.key);

/** Section 7: cursors. */
export function cursorsSuite(engine: string): void {
  describe('cursors (section 7)', () => {
    it('pages a snapshot of a multiple record in key order, items as GET of the record gives them', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await fill(s, 25);
      const opened = await s.req('POST', CURSORS, { record: 'results' });
      assert.equal(opened.status, 201);
      assert.deepEqual(Object.keys(opened.body).sort(), ['cursor', 'total']);
      assert.equal(opened.body.total, 25);
      assert.equal(typeof opened.headers['session-key'], 'string');
      const entries = (await s.req('GET', '/v1/session/records/results')).body.entries;
      const url = `${CURSORS}/${opened.body.cursor}`;
      const first = await s.req('GET', url);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { items: entries.slice(0, 10), position: 10, done: false });
      const second = await s.req('GET', `${url}?count=12`);
      assert.deepEqual(keys(second.body.items), entries.slice(10, 22).map((e: { key: string }) => e.key));
      assert.equal(second.body.position, 22);
      const last = await s.req('GET', url);
      assert.deepEqual([keys(last.body.items), last.body.position, last.body.done], [[key(22), key(23), key(24)], 25, true]);
      assert.deepEqual((await s.req('GET', url)).body, { items: [], position: 25, done: true });
    }));

    it('keeps its snapshot whatever happens to the record later, and takes pageSize', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await fill(s, 5);
      const c = (await s.req('POST', CURSORS, { record: 'results', pageSize: 2 })).body.cursor;
      await s.req('PUT', '/v1/session/records/results/k001', { value: 'changed' });
      await s.req('DELETE', '/v1/session/records/results/k002');
      await s.req('PUT', '/v1/session/records/results/a', { value: 'new' });
      const page = await s.req('GET', `${CURSORS}/${c}`);
      assert.deepEqual(page.body.items.map((e: { key: string; value: unknown; version: number }) => [e.key, e.value, e.version]),
        [['k000', { i: 0 }, 1], ['k001', { i: 1 }, 1]]);
      assert.deepEqual(keys((await s.req('GET', `${CURSORS}/${c}?count=10`)).body.items), ['k002', 'k003', 'k004']);
    }));

    it('sees the writes of an open transaction, as GET of the record does', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await fill(s, 3);
      await s.req('POST', '/v1/session/transactions');
      await s.req('DELETE', '/v1/session/records/results/k000');
      await s.req('PUT', '/v1/session/records/results/k009', { value: 9 });
      const opened = await s.req('POST', CURSORS, { record: 'results' });
      assert.equal(opened.body.total, 3);
      await s.req('POST', '/v1/session/transactions/rollback');
      assert.deepEqual(keys((await s.req('GET', `${CURSORS}/${opened.body.cursor}`)).body.items), ['k001', 'k002', 'k009'], 'a snapshot');
    }));

    it('answers 400 to bad input, 404 RECORD_NOT_FOUND to an absent record, 400 to a single record', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await fill(s, 2);
      await s.req('PUT', '/v1/session/records/profile', { value: 1 });
      for (const body of [{}, { record: 5 }, { record: 'bad name' }, { record: 'results', pageSize: 0 }, { record: 'results', pageSize: 1.5 },
        { record: 'results', pageSize: '3' }, { record: 'results', pageSize: 1001 }, { record: 'results', extra: 1 }, [], 'results']) {
        const res = await s.req('POST', CURSORS, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      assert.equal((await s.req('POST', CURSORS, { record: 'profile' })).status, 400);
      const absent = await s.req('POST', CURSORS, { record: 'nothing' });
      assert.equal(absent.status, 404);
      assert.equal(absent.body.error.code, 'RECORD_NOT_FOUND');
      const c = (await s.req('POST', CURSORS, { record: 'results' })).body.cursor;
      for (const q of ['count=0', 'count=-1', 'count=abc', 'count=1001', 'count=1.5']) {
        assert.equal((await s.req('GET', `${CURSORS}/${c}?${q}`)).status, 400, q);
      }
      assert.equal((await s.req('GET', `${CURSORS}/${c}?count=1`)).body.position, 1, 'the bad reads moved nothing');
    }));

    it('closes: DELETE, then CURSOR_NOT_FOUND; unknown ids and other sessions\' cursors are not found', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      const other = await SessionClient.create(app);
      await fill(s, 2);
      const c = (await s.req('POST', CURSORS, { record: 'results' })).body.cursor;
      for (const res of [await other.req('GET', `${CURSORS}/${c}`), await other.req('DELETE', `${CURSORS}/${c}`)]) {
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, 'CURSOR_NOT_FOUND');
      }
      assert.deepEqual((await s.req('DELETE', `${CURSORS}/${c}`)).body, { deleted: true });
      for (const id of [c, 'nope', 'x'.repeat(100), '%E2%9C%93']) {
        const res = await s.req('GET', `${CURSORS}/${id}`);
        assert.equal(res.status, 404, id);
        assert.equal(res.body.error.code, 'CURSOR_NOT_FOUND');
      }
      assert.equal((await s.req('DELETE', `${CURSORS}/${c}`)).status, 404);
    }));

    it('dies after the cursor timeout unused (each read restarts it), or with its session', () => using(engine, { ...TYPES, session: { cursorTimeout: 60 } }, async ({ app, clock, tessera }) => {
      const s = await SessionClient.create(app, { idleTimeout: 3600 });
      await fill(s, 5);
      const c = (await s.req('POST', CURSORS, { record: 'results', pageSize: 1 })).body.cursor;
      const d = (await s.req('POST', CURSORS, { record: 'results' })).body.cursor;
      clock.advance(59_000);
      assert.equal((await s.req('GET', `${CURSORS}/${c}`)).status, 200);
      clock.advance(59_000);
      assert.equal((await s.req('GET', `${CURSORS}/${c}`)).body.position, 2);
      assert.equal((await s.req('GET', `${CURSORS}/${d}`)).body.error.code, 'CURSOR_NOT_FOUND', 'd was unused for 118 s');
      clock.advance(61_000);
      await tessera.sweep();
      assert.equal((await s.req('GET', `${CURSORS}/${c}`)).status, 404);
      const e = (await s.req('POST', CURSORS, { record: 'results' })).body.cursor;
      await s.req('DELETE', '/v1/session');
      assert.equal(await tessera.store.readCursor(s.id, e, 1), null, 'gone with its session');
    }));

    it('keeps at most 32 cursors open per session', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await fill(s, 1);
      const ids: string[] = [];
      for (let i = 0; i < 32; i++) ids.push((await s.req('POST', CURSORS, { record: 'results' })).body.cursor);
      assert.equal(new Set(ids).size, 32);
      const over = await s.req('POST', CURSORS, { record: 'results' });
      assert.equal(over.status, 409);
      assert.equal(over.body.error.code, 'LIMIT_EXCEEDED');
      await s.req('DELETE', `${CURSORS}/${ids[0]}`);
      assert.equal((await s.req('POST', CURSORS, { record: 'results' })).status, 201);
    }));
  });
}
