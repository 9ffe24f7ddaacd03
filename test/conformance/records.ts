import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKey } from '../../src/core/keys.js';
import { SessionClient, using } from '../helpers/harness.js';

const TYPES = {
  records: {
    search_results: { kind: 'multiple', ttl: 1200, maxEntries: 3 },
    order_data: {
      ttl: 7200,
      schema: { type: 'object', required: ['total'], properties: { total: { type: 'number', minimum: 0 } } },
    },
    profile: { writeRoles: ['customer'] },
    secret: { readRoles: ['staff'] },
  },
};

/** Section 5: records. */
export function recordsSuite(engine: string): void {
  describe('records (section 5)', () => {
    it('writes and reads a single record, counting versions', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const first = await s.req('PUT', '/v1/session/records/cart', { value: { seats: ['A1'] } });
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { name: 'cart', value: { seats: ['A1'] }, version: 1, updatedAt: new Date(clock()).toISOString(), expiresAt: null });
      clock.advance(1000);
      const second = await s.req('PUT', '/v1/session/records/cart', { value: { seats: ['A1', 'A2'] } });
      assert.equal(second.body.version, 2);
      const read = await s.req('GET', '/v1/session/records/cart');
      assert.deepEqual(read.body, second.body);
      for (const value of [null, 0, 'text', [1, { a: 'b' }], true]) {
        const r = await s.req('PUT', '/v1/session/records/any', { value });
        assert.deepEqual((await s.req('GET', '/v1/session/records/any')).body.value, value);
        assert.equal(r.status, 200);
      }
    }));

    it('keeps entries of a multiple record, each with its version and expiry, in key order', () => using(engine, TYPES, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const a = await s.req('PUT', '/v1/session/records/search_results/a', { value: { q: 'alban' } });
      assert.deepEqual(a.body, { name: 'search_results', key: 'a', value: { q: 'alban' }, version: 1,
        updatedAt: new Date(clock()).toISOString(), expiresAt: new Date(clock() + 1200_000).toISOString() });
      await s.req('PUT', '/v1/session/records/search_results/b', { value: { q: 'bach' } });
      clock.advance(600_000);
      await s.req('PUT', '/v1/session/records/search_results/b', { value: { q: 'berg' } });
      const all = await s.req('GET', '/v1/session/records/search_results');
      assert.equal(all.body.name, 'search_results');
      assert.deepEqual(all.body.entries.map((e: { key: string; version: number }) => [e.key, e.version]), [['a', 1], ['b', 2]]);
      assert.deepEqual(Object.keys(all.body.entries[0]).sort(), ['expiresAt', 'key', 'updatedAt', 'value', 'version']);
      const one = await s.req('GET', '/v1/session/records/search_results/a');
      assert.equal(one.body.value.q, 'alban');
      clock.advance(700_000);
      const later = await s.req('GET', '/v1/session/records/search_results');
      assert.deepEqual(later.body.entries.map((e: { key: string }) => e.key), ['b'], 'entry a expired on its own');
    }));

    it('refuses a PUT without a key to a multiple record and with a key to a single one', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      const noKey = await s.req('PUT', '/v1/session/records/search_results', { value: 1 });
      assert.equal(noKey.status, 400);
      assert.equal(noKey.body.error.code, 'INVALID_REQUEST');
      const withKey = await s.req('PUT', '/v1/session/records/order_data/x', { value: { total: 1 } });
      assert.equal(withKey.status, 400);
      // An undeclared name is a single record: a PUT with an entry key is refused, written or not.
      const cart = await s.req('PUT', '/v1/session/records/cart/k1', { value: 1 });
      assert.equal(cart.status, 400);
      assert.equal(cart.body.error.code, 'INVALID_REQUEST');
      assert.equal((await s.req('GET', '/v1/session/records/cart')).status, 404);
      await s.req('PUT', '/v1/session/records/free', { value: 1 });
      assert.equal((await s.req('PUT', '/v1/session/records/free/k', { value: 1 })).status, 400);
      assert.equal((await s.req('GET', '/v1/session/records/free')).body.value, 1);
    }));

    it('reads an expired record as absent before any sweep, and a later write starts it fresh', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/tmp', { value: 'a', ttl: 30 });
      await s.req('PUT', '/v1/session/records/tmp', { value: 'b', ttl: 30 });
      clock.advance(30_000);
      const gone = await s.req('GET', '/v1/session/records/tmp');
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'RECORD_NOT_FOUND');
      assert.deepEqual((await s.req('GET', '/v1/session/records')).body, { records: [] });
      const fresh = await s.req('PUT', '/v1/session/records/tmp', { value: 'c' }, { 'if-match': '0' });
      assert.equal(fresh.status, 200, 'absent again, so If-Match: 0 holds');
      assert.equal(fresh.body.version, 1);
      assert.equal(fresh.body.expiresAt, null);
    }));

    it('lists every live record', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/cart', { value: 1 });
      await s.req('PUT', '/v1/session/records/search_results/x', { value: 2 });
      const res = await s.req('GET', '/v1/session/records');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.records.map((r: { name: string }) => r.name), ['cart', 'search_results']);
      assert.equal(res.body.records[0].value, 1);
      assert.equal(res.body.records[1].entries[0].key, 'x');
    }));

    it('deletes records and entries', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/cart', { value: 1 });
      await s.req('PUT', '/v1/session/records/search_results/x', { value: 1 });
      await s.req('PUT', '/v1/session/records/search_results/y', { value: 1 });
      assert.deepEqual((await s.req('DELETE', '/v1/session/records/cart')).body, { deleted: true });
      assert.equal((await s.req('GET', '/v1/session/records/cart')).status, 404);
      assert.equal((await s.req('DELETE', '/v1/session/records/cart')).body.error.code, 'RECORD_NOT_FOUND');
      assert.equal((await s.req('DELETE', '/v1/session/records/search_results/x')).status, 200);
      assert.equal((await s.req('GET', '/v1/session/records/search_results/x')).status, 404);
      assert.equal((await s.req('GET', '/v1/session/records/search_results/y')).status, 200);
      assert.equal((await s.req('DELETE', '/v1/session/records/search_results')).status, 200);
      assert.equal((await s.req('GET', '/v1/session/records/search_results')).status, 404);
    }));

    it('answers a PUT as before now that it rides on the authentication: refused, it still rotates the key and changes nothing', () =>
      using(engine, TYPES, async ({ app }) => {
        const s = await SessionClient.create(app);
        await s.req('PUT', '/v1/session/records/r', { value: 'a' });
        const sent = s.key;
        const refused = await s.req('PUT', '/v1/session/records/r', { value: 'b' }, { 'if-match': '5' });
        assert.equal(refused.status, 412);
        assert.equal(typeof refused.headers['session-key'], 'string');
        assert.notEqual(refused.headers['session-key'], sent, 'the key rotated all the same');
        assert.equal((await s.send('GET', '/v1/session/records/r', undefined, {}, sent)).status, 200, 'the replaced key is in its grace window');
        assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 'a');
        // The credentials are checked first: a bad body with a wrong key is SESSION_INVALID, with the right one INVALID_REQUEST.
        const wrongKey = await s.send('PUT', '/v1/session/records/r', { nope: 1 }, {}, 'A'.repeat(43));
        assert.equal(wrongKey.body.error.code, 'SESSION_INVALID');
        const badBody = await s.req('PUT', '/v1/session/records/r', { nope: 1 });
        assert.equal(badBody.body.error.code, 'INVALID_REQUEST');
        assert.equal(typeof badBody.headers['session-key'], 'string');
        // A record type with write roles needs the session's roles: the same FORBIDDEN, after the authentication.
        const forbidden = await s.req('PUT', '/v1/session/records/profile', { value: 1 });
        assert.equal(forbidden.body.error.code, 'FORBIDDEN');
        assert.equal(typeof forbidden.headers['session-key'], 'string');
        assert.equal((await s.req('GET', '/v1/session/records/r')).status, 200, 'the session goes on');
      }));

    it('makes the write of an authentication only when the key is accepted, no scope is open and the rules hold', () =>
      using(engine, {}, async ({ app, store }) => {
        const s = await SessionClient.create(app);
        await s.req('PUT', '/v1/session/records/r', { value: 'a' });
        const write = (ifVersion: number | null, value: string) => ({
          name: 'r', key: null, kind: 'single' as const, value, ttlMs: null, ifVersion, maxEntries: 1000, maxRecords: 100, maxRecordBytes: 1048576,
        });
        const auth = (key: string, w: ReturnType<typeof write>) =>
          store.authenticate({ id: s.id, keyHash: hashKey(key), client: 'web', rotation: null, graceMs: 10_000, write: w });
        const made = await auth(s.key, write(1, '"b"'));
        assert.equal(made.outcome, 'current');
        assert.equal(made.outcome === 'current' && made.written?.version, 2);
        const refused = await auth(s.key, write(1, '"c"'));
        assert.equal(refused.outcome === 'current' && refused.written, undefined, 'a refused write is left to putRecord');
        assert.equal((await auth('B'.repeat(43), write(null, '"d"'))).outcome, 'invalid');
        assert.deepEqual((await store.getRecord(s.id, 'r')).map((r) => [r.version, r.value]), [[2, '"b"']]);
        assert.equal((await s.req('POST', '/v1/session/transactions')).status, 200);
        const scoped = await auth(s.key, write(null, '"e"'));
        assert.equal(scoped.outcome === 'current' && scoped.scopes, true);
        assert.equal(scoped.outcome === 'current' && scoped.written, undefined, 'with a scope open, the write goes through the scopes');
        assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 'b');
      }));

    it('honours If-Match on PUT and DELETE, quoted or not; 0 means only if absent', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      assert.equal((await s.req('PUT', '/v1/session/records/r', { value: 'a' }, { 'if-match': '0' })).body.version, 1);
      const conflict = await s.req('PUT', '/v1/session/records/r', { value: 'b' }, { 'if-match': '0' });
      assert.equal(conflict.status, 412);
      assert.equal(conflict.body.error.code, 'VERSION_MISMATCH');
      assert.equal((await s.req('PUT', '/v1/session/records/r', { value: 'b' }, { 'if-match': '1' })).body.version, 2);
      assert.equal((await s.req('PUT', '/v1/session/records/r', { value: 'c' }, { 'if-match': '"2"' })).body.version, 3);
      assert.equal((await s.req('PUT', '/v1/session/records/r', { value: 'x' }, { 'if-match': '2' })).status, 412);
      assert.equal((await s.req('DELETE', '/v1/session/records/r', undefined, { 'if-match': '2' })).status, 412);
      assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 'c', 'the refused writes changed nothing');
      for (const bad of ['abc', '-1', '1.5', '*']) {
        const res = await s.req('PUT', '/v1/session/records/r', { value: 'y' }, { 'if-match': bad });
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      assert.equal((await s.req('DELETE', '/v1/session/records/r', undefined, { 'if-match': '3' })).status, 200);
    }));

    it('validates against the declared JSON Schema', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      assert.equal((await s.req('PUT', '/v1/session/records/order_data', { value: { total: 10 } })).status, 200);
      const bad = await s.req('PUT', '/v1/session/records/order_data', { value: { total: -1 } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
      assert.ok(Array.isArray(bad.body.error.details.errors) && bad.body.error.details.errors.length > 0);
      assert.equal((await s.req('GET', '/v1/session/records/order_data')).body.value.total, 10);
    }));

    it('refuses undeclared names when strictRecords is on', () => using(engine, { ...TYPES, strictRecords: true }, async ({ app }) => {
      const s = await SessionClient.create(app);
      const res = await s.req('PUT', '/v1/session/records/whatever', { value: 1 });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'RECORD_UNDECLARED');
      assert.equal((await s.req('PUT', '/v1/session/records/order_data', { value: { total: 1 } })).status, 200);
    }));

    it('enforces the size limit, maxEntries and the per-session record limit', () => using(engine, { ...TYPES, session: { maxRecords: 3, maxRecordSize: 1024 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      const big = await s.req('PUT', '/v1/session/records/big', { value: 'x'.repeat(2000) });
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, 'RECORD_TOO_LARGE');
      for (const k of ['a', 'b', 'c']) assert.equal((await s.req('PUT', `/v1/session/records/search_results/${k}`, { value: k })).status, 200);
      const full = await s.req('PUT', '/v1/session/records/search_results/d', { value: 'd' });
      assert.equal(full.status, 409);
      assert.equal(full.body.error.code, 'LIMIT_EXCEEDED');
      assert.equal((await s.req('PUT', '/v1/session/records/search_results/a', { value: 'again' })).status, 200, 'rewriting an entry is fine');
      await s.req('PUT', '/v1/session/records/one', { value: 1 });
      await s.req('PUT', '/v1/session/records/two', { value: 2 });
      const tooMany = await s.req('PUT', '/v1/session/records/three', { value: 3 });
      assert.equal(tooMany.body.error.code, 'LIMIT_EXCEEDED');
      assert.equal((await s.req('PUT', '/v1/session/records/two', { value: 22 })).status, 200);
    }));

    it('bounds the bytes of records a session holds: 409 LIMIT_EXCEEDED, nothing changed; a smaller value always fits', () => using(engine, { ...TYPES, session: { maxRecordBytes: 100 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      // the measure is the value's JSON text in UTF-8 bytes: '"' + 58 x + '"' is 60, a 38-character string 40
      assert.equal((await s.req('PUT', '/v1/session/records/cart', { value: 'x'.repeat(58) })).status, 200);
      assert.equal((await s.req('PUT', '/v1/session/records/search_results/a', { value: 'é'.repeat(19) })).status, 200); // 2 + 38 bytes: 100
      const over = await s.req('PUT', '/v1/session/records/note', { value: 1 });
      assert.equal(over.status, 409);
      assert.deepEqual(over.body, { error: { code: 'LIMIT_EXCEEDED', message: 'A session holds at most 100 bytes of records.', details: { limit: 100 } } });
      const grow = await s.req('PUT', '/v1/session/records/cart', { value: 'x'.repeat(59) });
      assert.equal(grow.body.error.code, 'LIMIT_EXCEEDED');
      const cart = await s.req('GET', '/v1/session/records/cart');
      assert.deepEqual([cart.body.value, cart.body.version], ['x'.repeat(58), 1], 'the refused write changed nothing');
      assert.equal((await s.req('GET', '/v1/session/records/note')).status, 404);
      assert.equal((await s.req('PUT', '/v1/session/records/cart', { value: 'x' })).status, 200, 'a smaller value fits');
      assert.equal((await s.req('PUT', '/v1/session/records/note', { value: 1 })).status, 200, 'and frees room');
    }));

    it('enforces readRoles and writeRoles', () => using(engine, TYPES, async ({ app }) => {
      const s = await SessionClient.create(app);
      const w = await s.req('PUT', '/v1/session/records/profile', { value: 1 });
      assert.equal(w.status, 403);
      assert.equal(w.body.error.code, 'FORBIDDEN');
      assert.equal((await s.req('GET', '/v1/session/records/secret')).status, 403);
    }));

    it('refuses malformed record writes with INVALID_REQUEST and keeps what was stored', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/keep', { value: 'safe' });
      const bad: unknown[] = [{}, { value: 1, ttl: 0 }, { value: 1, ttl: 'soon' }, { value: 1, extra: true }, [1], 'v'];
      for (const body of bad) {
        const res = await s.req('PUT', '/v1/session/records/keep', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      const badName = await s.req('PUT', `/v1/session/records/${'n'.repeat(200)}`, { value: 1 });
      assert.equal(badName.status, 400);
      const read = await s.req('GET', '/v1/session/records/keep');
      assert.equal(read.body.value, 'safe');
      assert.equal(read.body.version, 1);
    }));
  });
}
