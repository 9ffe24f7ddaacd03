import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, TOKENS, using } from '../helpers/harness.js';

function assertError(res: { status: number; body: any }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(!/\bat .+:\d+:\d+/.test(JSON.stringify(res.body)), 'no stack trace');
}

/** Sections 1 and 12: who may call, and errors for any input. */
export function errorsSuite(engine: string): void {
  describe('clients and errors (sections 1, 12)', () => {
    it('refuses a missing or wrong client token, and a client lacking the role', () => using(engine, {}, async ({ app }) => {
      assertError(await send(app, 'POST', '/v1/sessions', { token: null }), 401, 'CLIENT_UNAUTHORIZED');
      assertError(await send(app, 'POST', '/v1/sessions', { token: 'wrong-token-0123456789' }), 401, 'CLIENT_UNAUTHORIZED');
      assertError(await send(app, 'POST', '/v1/sessions', { headers: { authorization: 'Basic abc' }, token: null }), 401, 'CLIENT_UNAUTHORIZED');
      assertError(await send(app, 'POST', '/v1/sessions', { token: TOKENS.portal }), 403, 'FORBIDDEN');
      assert.equal((await send(app, 'POST', '/v1/sessions', { token: TOKENS.ops })).status, 201, 'admin may');
    }));

    it('answers the open routes without a token', () => using(engine, {}, async ({ app }) => {
      assert.deepEqual((await send(app, 'GET', '/healthz', { token: null })).body, { status: 'ok' });
      const ready = await send(app, 'GET', '/readyz', { token: null });
      assert.equal(ready.status, 200);
      assert.equal(ready.body.store, engine);
      const doc = await send(app, 'GET', '/openapi.json', { token: null });
      assert.equal(doc.body.openapi, '3.1.0');
      assert.ok(doc.body.paths['/v1/session/records/{name}'].put);
    }));

    it('marks every /v1 answer Cache-Control: no-store, errors included', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (const res of [await send(app, 'POST', '/v1/sessions'), await s.req('GET', '/v1/session'),
        await send(app, 'GET', '/v1/session'), await send(app, 'GET', '/v1/nothing-here')]) {
        assert.equal(res.headers['cache-control'], 'no-store');
      }
    }));

    it('answers unknown routes and methods with NOT_FOUND', () => using(engine, {}, async ({ app }) => {
      assertError(await send(app, 'GET', '/v1/nope'), 404, 'NOT_FOUND');
      assertError(await send(app, 'PATCH', '/v1/session'), 404, 'NOT_FOUND');
      assertError(await send(app, 'GET', '/%'), 400, 'INVALID_REQUEST');
    }));

    it('refuses malformed JSON, bodies of other types, and prototype keys', () => using(engine, {}, async ({ app }) => {
      assertError(await send(app, 'POST', '/v1/sessions', { raw: '{"idleTimeout": ' }), 400, 'INVALID_REQUEST');
      assertError(await send(app, 'POST', '/v1/sessions', { raw: 'idleTimeout=5', contentType: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertError(await send(app, 'POST', '/v1/sessions', { raw: 'hello', contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertError(await send(app, 'POST', '/v1/sessions', { raw: '{"__proto__": {"queue": false}}' }), 400, 'INVALID_REQUEST');
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/r', { value: 1 });
      const poisoned = await s.req('PUT', '/v1/session/records/r', undefined, { 'content-type': 'application/json' });
      assert.equal(poisoned.status, 400);
      const proto = await app.inject({ method: 'PUT', url: '/v1/session/records/r', payload: '{"value": {"__proto__": {"admin": true}}}',
        headers: { authorization: `Bearer ${TOKENS.web}`, 'content-type': 'application/json', 'session-id': s.id, 'session-key': s.key } });
      assert.equal(proto.statusCode, 400);
      assert.equal(proto.json().error.code, 'INVALID_REQUEST');
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      assert.equal(proto.headers['session-key'], undefined, 'a body refused before the session was looked at rotates nothing');
      assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 1, 'nothing stored was changed');
    }));

    it('refuses a body over the limit with PAYLOAD_TOO_LARGE', () => using(engine, { http: { bodyLimit: 2048 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      const res = await s.send('PUT', '/v1/session/records/big', { value: 'x'.repeat(5000) });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
      assert.equal((await s.req('GET', '/v1/session')).status, 200);
    }));

    it('answers long headers, odd paths and odd methods without a 500', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const probes = [
        send(app, 'GET', '/v1/session', { headers: { 'session-id': s.id, 'session-key': 'k'.repeat(10_240), 'x-junk': 'j'.repeat(10_240) } }),
        send(app, 'GET', `/v1/session/records/${'%ff'.repeat(20)}`, { headers: { 'session-id': s.id, 'session-key': s.key } }),
        send(app, 'PUT', '/v1/session/records/a/b/c', { body: { value: 1 } }),
        send(app, 'POST', '/v1/sessions', { headers: { authorization: 'Bearer ' + 'x'.repeat(10_000) }, token: null }),
        send(app, 'OPTIONS', '/v1/sessions'),
        send(app, 'GET', '/v1/session', { headers: { 'if-match': 'x'.repeat(10_000) } }),
      ];
      for (const res of await Promise.all(probes)) {
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
        assert.ok(res.body.error.code);
      }
    }));
  });
}
