import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { makeHarness, send, SessionClient, TOKENS, using } from '../helpers/harness.js';

/** Section 2: session credentials. */
export function credentialsSuite(engine: string): void {
  describe('credentials (section 2)', () => {
    it('creates a session with a 128-bit id and a 256-bit url-safe key, in body and headers', () => using(engine, {}, async ({ app }) => {
      const res = await send(app, 'POST', '/v1/sessions');
      assert.equal(res.status, 201);
      assert.match(res.body.id, /^[A-Za-z0-9_-]{22,}$/);
      assert.match(res.body.key, /^[A-Za-z0-9_-]{43,}$/);
      assert.equal(res.headers['session-id'], res.body.id);
      assert.equal(res.headers['session-key'], res.body.key);
      assert.equal(res.headers['session-expires'], res.body.nextTimeout);
      const other = await send(app, 'POST', '/v1/sessions');
      assert.notEqual(other.body.id, res.body.id);
      assert.notEqual(other.body.key, res.body.key);
    }));

    it('answers every accepted request with a new key (per-request rotation)', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const seen = new Set([s.key]);
      for (let i = 0; i < 5; i++) {
        const res = await s.req('GET', '/v1/session');
        assert.equal(res.status, 200);
        assert.equal(res.headers['session-id'], s.id);
        assert.ok(res.headers['session-expires']);
        assert.ok(!seen.has(s.key), 'a fresh key each time');
        seen.add(s.key);
      }
    }));

    it('carries the session headers on errors after the credentials were accepted', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const before = s.key;
      const res = await s.req('GET', '/v1/session/records/missing');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'RECORD_NOT_FOUND');
      assert.equal(res.headers['session-id'], s.id);
      assert.notEqual(s.key, before);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'the key from the error answer works');
    }));

    it('serves the key just replaced within the grace window with the current key, rotating nothing', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const k0 = s.key;
      await s.req('GET', '/v1/session'); // k0 -> k1
      const k1 = s.key;
      clock.advance(5000);
      const lost = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(lost.status, 200);
      assert.equal(lost.headers['session-key'], k1, 'answers the current key');
      const again = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(again.headers['session-key'], k1);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'the current key still works');
    }));

    it('revokes the session when a superseded key is replayed', () => using(engine, {}, async ({ app, tessera }) => {
      const events: string[] = [];
      tessera.events.on('event', (e) => events.push(e.type));
      const s = await SessionClient.create(app);
      const k0 = s.key;
      await s.req('GET', '/v1/session');
      await s.req('GET', '/v1/session');
      const replay = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error.code, 'SESSION_KEY_REPLAYED');
      assert.equal(replay.headers['session-key'], undefined);
      assert.ok(!JSON.stringify(replay.body).includes(k0));
      const after = await s.req('GET', '/v1/session');
      assert.equal(after.status, 401);
      assert.equal(after.body.error.code, 'SESSION_INVALID', 'the session is gone, even for the current key');
      assert.ok(events.includes('security.key_replayed'));
    }));

    it('serves the key just replaced however late while its successor was never presented (the answer was lost)', () => using(engine, { session: { graceWindow: 10 } }, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const k0 = s.key;
      await s.req('GET', '/v1/session'); // k0 -> k1; say the answer never reached the client
      const k1 = s.key;
      clock.advance(600_000);
      const late = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(late.status, 200, JSON.stringify(late.body));
      assert.equal(late.headers['session-key'], k1, 'answers the current key, rotating nothing');
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'k1 works');
      const replay = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(replay.body.error.code, 'SESSION_KEY_REPLAYED', 'k1 was presented: k0 is now two keys back');
    }));

    it('treats the key just replaced as a replay after the grace window once its successor was presented', () => using(engine, { session: { graceWindow: 10 } }, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const k0 = s.key;
      await s.req('GET', '/v1/session'); // k0 -> k1
      // k1 presented without rotating (a failed login rotates nothing): the client provably has it.
      const failed = await s.send('POST', '/v1/session/login', { username: 'nobody', password: 'x' });
      assert.equal(failed.body.error.code, 'LOGIN_FAILED');
      const soon = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(soon.status, 200, 'within the window: still served');
      clock.advance(10_001);
      const late = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(late.body.error.code, 'SESSION_KEY_REPLAYED');
    }));

    it('with graceWindow 0, the key just replaced is never served', () => using(engine, { session: { graceWindow: 0 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      const k0 = s.key;
      await s.req('GET', '/v1/session');
      const res = await s.send('GET', '/v1/session', undefined, {}, k0);
      assert.equal(res.body.error.code, 'SESSION_KEY_REPLAYED');
    }));

    it('remembers at least 16 superseded keys', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const keys = [s.key];
      for (let i = 0; i < 16; i++) { await s.req('GET', '/v1/session'); keys.push(s.key); }
      // keys[16] is current, keys[15] just replaced; keys[0] is 16 rotations back.
      const res = await s.send('GET', '/v1/session', undefined, {}, keys[0]);
      assert.equal(res.body.error.code, 'SESSION_KEY_REPLAYED');
    }));

    it('answers a key the session never had with SESSION_INVALID and leaves the session alone', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const res = await s.send('GET', '/v1/session', undefined, {}, 'A'.repeat(43));
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'SESSION_INVALID');
      assert.equal(res.headers['session-id'], undefined);
      assert.equal((await s.req('GET', '/v1/session')).status, 200);
    }));

    it('gives one generic answer for unknown, malformed, missing and oversized credentials', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const cases: Record<string, string>[] = [
        {},
        { 'session-id': s.id },
        { 'session-id': 'nope', 'session-key': s.key },
        { 'session-id': 'A'.repeat(22), 'session-key': s.key },
        { 'session-id': s.id, 'session-key': 'x'.repeat(10_000) },
        { 'session-id': 'x'.repeat(10_000), 'session-key': s.key },
      ];
      const bodies = new Set<string>();
      for (const headers of cases) {
        const res = await send(app, 'GET', '/v1/session', { headers });
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'SESSION_INVALID');
        bodies.add(JSON.stringify(res.body));
      }
      assert.equal(bodies.size, 1, 'nothing echoed, one answer');
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'none of that hurt the session');
    }));

    it('ignores credentials in the query string', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const res = await send(app, 'GET', `/v1/session?sessionId=${s.id}&sessionKey=${s.key}&session-id=${s.id}&session-key=${s.key}`);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'SESSION_INVALID');
    }));

    it('keeps the key between requests with on-privilege-change rotation', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const k = s.key;
      for (let i = 0; i < 3; i++) {
        const res = await s.req('GET', '/v1/session');
        assert.equal(res.status, 200);
        assert.equal(res.headers['session-key'], k);
      }
    }));

    it("makes another client's session look exactly like an unknown one, and lets an admin in", () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const asShop = await send(app, 'GET', '/v1/session', { token: TOKENS.shop, headers: { 'session-id': s.id, 'session-key': s.key } });
      const unknown = await send(app, 'GET', '/v1/session', { token: TOKENS.shop, headers: { 'session-id': 'B'.repeat(22), 'session-key': s.key } });
      assert.equal(asShop.status, 401);
      assert.deepEqual(asShop.body, unknown.body);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'the foreign attempt changed nothing');
      const asOps = await send(app, 'GET', '/v1/session', { token: TOKENS.ops, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(asOps.status, 200);
    }));

    it('never writes a key into a log line', async () => {
      let log = '';
      const sink = new Writable({ write(chunk, _enc, done) { log += chunk.toString(); done(); } });
      const h = await makeHarness(engine, {}, sink);
      try {
        const s = await SessionClient.create(h.app);
        const keys = [s.key];
        await s.req('PUT', '/v1/session/records/a', { value: 1 }); keys.push(s.key);
        await s.req('GET', '/v1/session/records/zzz'); keys.push(s.key);
        await s.send('GET', '/v1/session', undefined, {}, keys[0]); // a replay
        await send(h.app, 'POST', '/v1/sessions', { raw: '{bad' });
        assert.ok(log.length > 0, 'something was logged');
        for (const k of keys) assert.ok(!log.includes(k), 'no key in the log');
      } finally { await h.close(); }
    });
  });
}
