import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, TOKENS, using } from '../helpers/harness.js';

/** Findings of a black-box audit: each was a 500, a hang or a quiet misreading before. */
export function hostileSuite(engine: string): void {
  describe('hostile input', () => {
    it('caps a huge record ttl at the session lifespan limit instead of failing', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      for (const ttl of [1e13, 1e20, 300_000_000_000]) {
        const res = await s.req('PUT', '/v1/session/records/p', { value: 1, ttl });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.expiresAt, new Date(clock() + 604_800_000).toISOString());
      }
      assert.equal((await s.req('GET', '/v1/session/records')).status, 200);
      const capped = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: 1e20 } });
      assert.equal(capped.body.idleTimeout, 86400, 'a huge duration is capped like any other');
    }));

    it('refuses a body nested too deeply with 400, and keeps what was stored', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/deep', { value: 'safe' });
      const raw = `{"value":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      const res = await send(app, 'PUT', '/v1/session/records/deep', { raw, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'INVALID_REQUEST');
      const arrays = await send(app, 'PUT', '/v1/session/records/deep', { raw: `{"value":${'['.repeat(5000)}${']'.repeat(5000)}}`, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(arrays.status, 400);
      assert.equal((await s.req('GET', '/v1/session/records/deep')).body.value, 'safe');
    }));

    it('refuses numbers JSON would not give back as sent (1e400, integers beyond 2^53) with 400 naming them, and keeps what was stored', () =>
      using(engine, {}, async ({ app }) => {
        const s = await SessionClient.create(app);
        assert.equal((await s.req('PUT', '/v1/session/records/price', { value: { price: 12 } })).status, 200);
        const put = (raw: string) => send(app, 'PUT', '/v1/session/records/price', { raw, headers: { 'session-id': s.id, 'session-key': s.key } })
          .then((res) => { if (typeof res.headers['session-key'] === 'string') s.key = res.headers['session-key']; return res; });
        const inf = await put('{"value":{"price":1e400}}');
        assert.equal(inf.status, 400);
        assert.equal(inf.body.error.code, 'INVALID_REQUEST');
        assert.match(inf.body.error.message, /\/value\/price/);
        const big = await put('{"value":{"id":12345678901234567890}}');
        assert.equal(big.status, 400);
        assert.match(big.body.error.message, /12345678901234567890/);
        assert.equal((await put('{"value":{"id":"12345678901234567890","n":9007199254740991}}')).status, 200, 'as a string, and the largest safe integer, are fine');
        assert.deepEqual((await s.req('GET', '/v1/session/records/price')).body.value, { id: '12345678901234567890', n: 9007199254740991 });
      }));

    it('refuses a body on routes that take none, doing nothing', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/r', { value: 1 });
      for (const [method, url] of [['DELETE', '/v1/session'], ['DELETE', '/v1/session/records/r'], ['POST', '/v1/session/transfer'], ['POST', '/v1/session/logout']]) {
        const res = await s.req(method, url, { x: 1 });
        assert.equal(res.status, 400, `${method} ${url}`);
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 1, 'nothing was done');
      assert.equal((await s.req('DELETE', '/v1/session', {})).status, 200, 'an empty object is no body');
    }));

    it('refuses the entry keys . and ..', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (const key of ['.', '..', '%2e%2e']) {
        const res = await s.req('PUT', `/v1/session/records/m/${key}`, { value: 1 });
        assert.ok(res.status === 400 || res.status === 404, `${key}: ${res.status}`);
      }
    }));

    it("does not let another client's request, knowing only the id, hold a session's line", () => using(engine, { session: { queueTimeout: 1 } }, async ({ app, tessera }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change', queue: false });
      const foreign = await tessera.takeTurn({ id: 'shop', roles: ['app'] }, s.id);
      assert.equal(foreign, null, 'not queued');
      assert.equal((await tessera.takeTurn({ id: 'shop', roles: ['app'] }, 'A'.repeat(22))), null, 'an unknown session is not queued');
      assert.equal((await s.send('GET', '/v1/session')).status, 200, 'the owner is served at once');
      const asShop = await send(app, 'GET', '/v1/session', { token: TOKENS.shop, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(asShop.body.error.code, 'SESSION_INVALID');
    }));

    it("stops counting an expired session's holds at once, before any sweep", () => using(engine, {}, async ({ app, clock }) => {
      await send(app, 'PUT', '/v1/admin/pools/ga:X', { token: TOKENS.ops, body: { capacity: 2 } });
      const a = await SessionClient.create(app, { idleTimeout: 60 });
      assert.equal((await a.req('POST', '/v1/session/holds', { resources: ['seat:X:1'], ttl: 900 })).status, 201);
      assert.equal((await a.req('POST', '/v1/session/holds', { pool: 'ga:X', quantity: 2, ttl: 900 })).status, 201);
      clock.advance(61_000);
      const b = await SessionClient.create(app);
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['seat:X:1'] })).status, 201, 'the seat is free');
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:X', quantity: 2 })).status, 201, 'the units are back');
    }));

    it('marks every answer no-store, including the open routes', () => using(engine, {}, async ({ app }) => {
      for (const url of ['/healthz', '/readyz', '/openapi.json', '/nope']) {
        assert.equal((await send(app, 'GET', url, { token: null })).headers['cache-control'], 'no-store', url);
      }
    }));
  });
}
