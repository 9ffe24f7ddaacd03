import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionClient, TOKENS, send, using } from '../helpers/harness.js';
import { transactionHoldTests } from './transactions-holds.js';

const TX = '/v1/session/transactions';
export const begin = (s: SessionClient) => s.req('POST', TX);
export const commit = (s: SessionClient) => s.req('POST', `${TX}/commit`);
export const rollback = (s: SessionClient, all = false) => s.req('POST', `${TX}/rollback${all ? '?all=true' : ''}`);
export const put = (s: SessionClient, path: string, value: unknown, headers: Record<string, string> = {}) =>
  s.req('PUT', `/v1/session/records/${path}`, { value }, headers);
export const get = (s: SessionClient, path: string) => s.req('GET', `/v1/session/records/${path}`);
export const list = async (s: SessionClient) => (await s.req('GET', '/v1/session/records')).body.records;
export const depth = async (s: SessionClient) => (await s.req('GET', '/v1/session')).body.transactionDepth;

/** Section 6: transactions and nested scopes. */
export function transactionsSuite(engine: string): void {
  describe('transactions (section 6)', () => {
    it('opens, nests, commits and rolls back, answering the depth left; GET /v1/session reports it', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      assert.equal(await depth(s), 0);
      assert.deepEqual((await begin(s)).body, { depth: 1 });
      const nested = await begin(s);
      assert.equal(nested.status, 200);
      assert.deepEqual(nested.body, { depth: 2 });
      assert.equal(typeof nested.headers['session-key'], 'string');
      assert.equal(await depth(s), 2);
      assert.deepEqual((await commit(s)).body, { depth: 1 });
      assert.deepEqual((await rollback(s)).body, { depth: 0 });
      await begin(s);
      await begin(s);
      await begin(s);
      assert.deepEqual((await rollback(s, true)).body, { depth: 0 });
      assert.equal(await depth(s), 0);
    }));

    it('answers TRANSACTION_NOT_OPEN to commit or rollback with none open, and 400 to bad input', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (const res of [await commit(s), await rollback(s), await rollback(s, true)]) {
        assert.equal(res.status, 409);
        assert.equal(res.body.error.code, 'TRANSACTION_NOT_OPEN');
        assert.equal(typeof res.headers['session-key'], 'string', 'an accepted request: the next key comes back');
      }
      await begin(s);
      for (const res of [
        await s.req('POST', `${TX}/rollback?all=maybe`),
        await s.req('POST', TX, { nested: true }),
        await s.req('POST', `${TX}/commit`, [1]),
      ]) {
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      assert.equal(await depth(s), 1, 'nothing changed by the bad requests');
      assert.equal((await s.req('POST', `${TX}/rollback?all=false`)).body.depth, 0);
    }));

    it('lets the session read its writes and deletes inside a scope, and persists them only on the outer commit', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'kept', 'old');
      await put(s, 'gone', 1);
      await begin(s);
      const w = await put(s, 'kept', 'new');
      assert.equal(w.body.version, 2);
      assert.equal((await s.req('DELETE', '/v1/session/records/gone')).status, 200);
      await put(s, 'fresh', { a: 1 });
      assert.deepEqual((await get(s, 'kept')).body.value, 'new');
      assert.equal((await get(s, 'gone')).status, 404);
      assert.deepEqual((await list(s)).map((r: { name: string }) => r.name), ['fresh', 'kept']);
      // If-Match sees the scope's versions.
      assert.equal((await put(s, 'kept', 'x', { 'if-match': '1' })).status, 412);
      assert.equal((await put(s, 'kept', 'newer', { 'if-match': '2' })).body.version, 3);
      assert.equal((await put(s, 'gone', 2, { 'if-match': '0' })).body.version, 1, 'deleted in the scope: absent, starts fresh');
      assert.deepEqual((await commit(s)).body, { depth: 0 });
      assert.deepEqual((await list(s)).map((r: { name: string; value: unknown; version: number }) => [r.name, r.value, r.version]),
        [['fresh', { a: 1 }, 1], ['gone', 2, 1], ['kept', 'newer', 3]]);
    }));

    it('discards a rolled-back scope: records, entries and versions are as before', () => using(engine, { records: { bag: { kind: 'multiple' } } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'bag/a', 1);
      await put(s, 'bag/b', 2);
      await put(s, 'one', 'v1');
      const before = await list(s);
      await begin(s);
      await put(s, 'bag/a', 10);
      await s.req('DELETE', '/v1/session/records/bag/b');
      await put(s, 'bag/c', 3);
      await s.req('DELETE', '/v1/session/records/one');
      await put(s, 'extra', true);
      assert.deepEqual((await get(s, 'bag')).body.entries.map((e: { key: string; value: number }) => [e.key, e.value]), [['a', 10], ['c', 3]]);
      assert.deepEqual((await rollback(s)).body, { depth: 0 });
      assert.deepEqual(await list(s), before);
    }));

    it('nests: a rolled-back inner scope leaves the outer one; a committed one merges into it', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'a', 0);
      await begin(s);
      await put(s, 'a', 1);
      await begin(s);
      await put(s, 'a', 2);
      await s.req('DELETE', '/v1/session/records/a');
      await put(s, 'b', 'inner');
      assert.equal((await get(s, 'a')).status, 404);
      await rollback(s);
      assert.deepEqual([(await get(s, 'a')).body.value, (await get(s, 'b')).status], [1, 404], 'back to the outer scope');
      await begin(s);
      await s.req('DELETE', '/v1/session/records/a');
      await put(s, 'a', 'again');
      await put(s, 'b', 'inner');
      await commit(s);
      assert.deepEqual([(await get(s, 'a')).body.value, (await get(s, 'a')).body.version, (await get(s, 'b')).body.value], ['again', 1, 'inner']);
      await begin(s);
      await put(s, 'c', 'innermost');
      await commit(s);
      await rollback(s);
      assert.deepEqual((await list(s)).map((r: { name: string; value: unknown }) => [r.name, r.value]), [['a', 0]], 'the outer rollback discards what was merged into it');
      await begin(s);
      await begin(s);
      await put(s, 'x', 1);
      await commit(s);
      await commit(s);
      assert.equal((await get(s, 'x')).body.value, 1);
    }));

    it('applies the limits and kinds against what the scope sees', () => using(engine, { session: { maxRecords: 2 }, records: { bag: { kind: 'multiple', maxEntries: 2 } } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'bag/a', 1);
      await begin(s);
      await put(s, 'bag/b', 2);
      const over = await put(s, 'bag/c', 3);
      assert.equal(over.status, 409);
      assert.equal(over.body.error.code, 'LIMIT_EXCEEDED');
      await s.req('DELETE', '/v1/session/records/bag/a');
      assert.equal((await put(s, 'bag/c', 3)).status, 200, 'a deleted entry frees its place in the scope');
      assert.equal((await put(s, 'one', 1)).status, 200);
      assert.equal((await put(s, 'two', 2)).body.error.code, 'LIMIT_EXCEEDED', 'bag and one are two records');
      await s.req('DELETE', '/v1/session/records/one');
      assert.equal((await put(s, 'two', 2)).status, 200);
      assert.equal((await put(s, 'two/k', 2)).status, 400, 'kind checked in the scope');
      assert.equal((await s.req('DELETE', '/v1/session/records/bag', undefined, { 'if-match': '1' })).status, 400);
      await commit(s);
      assert.deepEqual((await list(s)).map((r: { name: string }) => r.name), ['bag', 'two']);
      assert.deepEqual((await get(s, 'bag')).body.entries.map((e: { key: string }) => e.key), ['b', 'c']);
    }));

    it('rolls back a scope idle past the transaction timeout: the next request gets TRANSACTION_ABORTED once', () => using(engine, { session: { transactionTimeout: 60 } }, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      await put(s, 'a', 'committed');
      await begin(s);
      await put(s, 'a', 'buffered');
      clock.advance(59_000);
      assert.equal((await get(s, 'a')).body.value, 'buffered', 'a request keeps the scope alive');
      clock.advance(59_000);
      await begin(s);
      assert.equal(await depth(s), 2);
      clock.advance(60_000);
      const aborted = await get(s, 'a');
      assert.equal(aborted.status, 409);
      assert.equal(aborted.body.error.code, 'TRANSACTION_ABORTED');
      assert.equal(typeof aborted.headers['session-key'], 'string', 'the next key comes with it');
      const after = await get(s, 'a');
      assert.equal(after.status, 200, 'once');
      assert.equal(after.body.value, 'committed');
      assert.equal(await depth(s), 0);
      assert.equal((await commit(s)).body.error.code, 'TRANSACTION_NOT_OPEN');
    }));

    it('the sweep rolls back an idle scope before the session comes back, which then hears of it once', () => using(engine, { session: { transactionTimeout: 60 } }, async ({ app, clock, tessera }) => {
      const s = await SessionClient.create(app, { idleTimeout: 3600 });
      const other = await SessionClient.create(app);
      await begin(s);
      await s.req('POST', '/v1/session/holds', { resources: ['seat:T1'] });
      assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:T1'] })).status, 409);
      clock.advance(61_000);
      await tessera.sweep();
      assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:T1'] })).status, 201, 'released by the sweep');
      assert.equal((await s.req('GET', '/v1/session')).body.error.code, 'TRANSACTION_ABORTED');
      assert.equal((await s.req('GET', '/v1/session')).body.transactionDepth, 0);
    }));

    it('rolls everything back when the session ends or expires, releasing the holds', () => using(engine, {}, async ({ app, clock, tessera }) => {
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app, { idleTimeout: 60 });
      const c = await SessionClient.create(app, { idleTimeout: 3600 });
      for (const s of [a, b]) {
        await begin(s);
        await put(s, 'r', 1);
      }
      await a.req('POST', '/v1/session/holds', { resources: ['seat:E1'] });
      await b.req('POST', '/v1/session/holds', { resources: ['seat:E2'] });
      assert.equal((await a.req('DELETE', '/v1/session')).status, 200);
      clock.advance(61_000);
      await tessera.sweep();
      assert.equal((await c.req('POST', '/v1/session/holds', { resources: ['seat:E1', 'seat:E2'] })).status, 201);
      assert.deepEqual(await tessera.store.getRecord(a.id, 'r').catch((e) => e.code), 'SESSION_INVALID');
    }));

    it('a transfer rolls the open scopes back; the new session starts at depth 0', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'kept', 1);
      await begin(s);
      await put(s, 'kept', 2);
      await s.req('POST', '/v1/session/holds', { resources: ['seat:X'] });
      const moved = await s.req('POST', '/v1/session/transfer');
      assert.equal(moved.status, 201);
      const t = new SessionClient(app);
      t.id = moved.body.id;
      t.key = moved.body.key;
      assert.equal(await depth(t), 0);
      assert.equal((await get(t, 'kept')).body.value, 1);
      assert.deepEqual((await t.req('GET', '/v1/session/holds')).body.holds, [], 'the hold taken in the scope was released');
    }));

    it('keepalive with touchRecords restarts the clocks of buffered entries too', () => using(engine, { records: { tmp: { ttl: 100 } } }, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      await begin(s);
      await put(s, 'tmp', 1);
      clock.advance(90_000);
      await s.req('POST', '/v1/session/keepalive', { touchRecords: true });
      clock.advance(90_000);
      assert.equal((await get(s, 'tmp')).status, 200);
      await commit(s);
      clock.advance(9_000);
      assert.equal((await get(s, 'tmp')).status, 200, 'committed with the expiry the touch gave it');
      clock.advance(1_000);
      assert.equal((await get(s, 'tmp')).status, 404);
    }));

    it('limits nesting to 32 scopes', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (let i = 1; i <= 32; i++) assert.equal((await begin(s)).body.depth, i);
      const over = await begin(s);
      assert.equal(over.status, 409);
      assert.equal(over.body.error.code, 'LIMIT_EXCEEDED');
      assert.equal((await rollback(s, true)).body.depth, 0);
    }));

    it('refuses another client, and answers 401 on an unknown session', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const res = await send(app, 'POST', TX, { token: TOKENS.shop, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'SESSION_INVALID');
    }));

    it('never answers 5xx to odd input on the transaction and cursor routes, and loses nothing', () => using(engine, { records: { bag: { kind: 'multiple' } } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      await put(s, 'bag/a', 1);
      await begin(s);
      await put(s, 'bag/b', 2);
      const odd: [string, string, unknown?][] = [
        ['POST', `${TX}?all=true`, { depth: 3 }], ['POST', `${TX}/rollback?all=true&all=false`], ['POST', `${TX}/rollback?all=`],
        ['POST', `${TX}/commit`, 'text'], ['POST', `${TX}/commit`, [null]], ['GET', TX], ['DELETE', TX], ['POST', `${TX}/nested`],
        ['POST', '/v1/session/cursors', { record: 'bag', pageSize: null }], ['POST', '/v1/session/cursors', { record: ['bag'] }],
        ['GET', '/v1/session/cursors/%00'], ['GET', '/v1/session/cursors/a?count=1&count=2'], ['GET', '/v1/session/cursors/a%2Fb'],
        ['DELETE', '/v1/session/cursors/..'], ['GET', '/v1/session/cursors'], ['POST', '/v1/session/cursors', { record: 'bag', pageSize: 1e300 }],
      ];
      for (const [method, url, body] of odd) {
        const res = await s.req(method, url, body);
        assert.ok(res.status >= 400 && res.status < 500, `${method} ${url}: ${res.status}`);
      }
      assert.equal(await depth(s), 1);
      assert.deepEqual((await get(s, 'bag')).body.entries.map((e: { key: string }) => e.key), ['a', 'b']);
      await commit(s);
      assert.deepEqual((await get(s, 'bag')).body.entries.map((e: { key: string }) => e.key), ['a', 'b']);
    }));

    it('describes the transaction and cursor routes in /openapi.json', () => using(engine, {}, async ({ app }) => {
      const doc = await send(app, 'GET', '/openapi.json', { token: null });
      for (const [path, method] of [[TX, 'post'], [`${TX}/commit`, 'post'], [`${TX}/rollback`, 'post'],
        ['/v1/session/cursors', 'post'], ['/v1/session/cursors/{cursor}', 'get'], ['/v1/session/cursors/{cursor}', 'delete']]) {
        assert.ok(doc.body.paths[path]?.[method], `${method} ${path}`);
      }
    }));

    transactionHoldTests(engine);
  });
}

