import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { TesseraEvent } from '../../src/service/tessera.js';
import { makeHarness, send, SessionClient, TOKENS, type Answer, using } from '../helpers/harness.js';

export const PEOPLE = {
  users: [
    { name: 'alice', password: 'alice-password-1', roles: ['customer'] },
    { name: 'bob', password: 'bob-password-1', roles: ['customer', 'staff'] },
  ],
};

export const login = (s: SessionClient, username: unknown, password: unknown): Promise<Answer> =>
  s.req('POST', '/v1/session/login', { username, password });

function assertError(res: Answer, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Section 8: users, login, logout, roles, throttling. */
export function usersSuite(engine: string): void {
  describe('users and login (section 8)', () => {
    it('logs in: the user and its roles, a new key with no grace, records kept', () => using(engine, PEOPLE, async ({ app, tessera }) => {
      const events: TesseraEvent[] = [];
      tessera.events.on('event', (e) => events.push(e));
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/cart', { value: ['A1'] });
      const before = s.key;
      const res = await login(s, 'alice', 'alice-password-1');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { user: { name: 'alice', roles: ['customer'] } });
      assert.equal(res.headers['session-id'], s.id);
      assert.ok(res.headers['session-expires']);
      assert.notEqual(s.key, before);
      const me = await s.req('GET', '/v1/session');
      assert.deepEqual(me.body.user, { name: 'alice', roles: ['customer'] });
      assert.deepEqual((await s.req('GET', '/v1/session/records/cart')).body.value, ['A1'], 'records survive login');
      const login1 = events.find((e) => e.type === 'user.login')!;
      assert.equal(login1.user, 'alice');
      assert.equal(login1.sessionId, s.id);
      const replay = await s.send('GET', '/v1/session', undefined, {}, before);
      assertError(replay, 401, 'SESSION_KEY_REPLAYED');
      assert.ok(!JSON.stringify(events).includes('alice-password-1'), 'no password in an event');
    }));

    it('issues a new key at login with on-privilege-change rotation too, and the old key is dead at once', () => using(engine, PEOPLE, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const before = s.key;
      assert.equal((await s.req('GET', '/v1/session')).headers['session-key'], before, 'no rotation between privilege changes');
      await login(s, 'bob', 'bob-password-1');
      assert.notEqual(s.key, before);
      assert.equal((await s.req('GET', '/v1/session')).headers['session-key'], s.key);
      assertError(await s.send('GET', '/v1/session', undefined, {}, before), 401, 'SESSION_KEY_REPLAYED');
    }));

    it('logs in anonymously as the configured anonymous user', () => using(engine, { ...PEOPLE, anonymousUser: { name: 'guest-visitor', roles: ['guest', 'browse'] } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      const before = s.key;
      const res = await s.req('POST', '/v1/session/login', { anonymous: true });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { user: { name: 'guest-visitor', roles: ['guest', 'browse'] } });
      assert.notEqual(s.key, before);
      // Tessitura's flow: anonymous first, then the real login, each with a new key.
      const anonKey = s.key;
      assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
      assert.deepEqual((await s.req('GET', '/v1/session')).body.user, { name: 'alice', roles: ['customer'] });
      assertError(await s.send('GET', '/v1/session', undefined, {}, anonKey), 401, 'SESSION_KEY_REPLAYED');
    }));

    it('fixation: an attacker holding the pre-login id and key cannot use the session after the victim logs in', () => using(engine, PEOPLE, async ({ app }) => {
      const victim = await SessionClient.create(app);
      const planted = { id: victim.id, key: victim.key }; // what the attacker fixed or stole before login
      assert.equal((await login(victim, 'alice', 'alice-password-1')).status, 200);
      await victim.req('PUT', '/v1/session/records/card', { value: 'secret' });
      const attacker = new SessionClient(app);
      attacker.id = planted.id;
      attacker.key = planted.key;
      for (const [method, url] of [['GET', '/v1/session'], ['GET', '/v1/session/records/card'], ['POST', '/v1/session/authorize']] as const) {
        const res = await attacker.send(method, url, method === 'POST' ? { anyOf: ['customer'] } : undefined);
        assert.equal(res.status, 401, `${method} ${url}`);
        assert.equal(res.headers['session-key'], undefined);
        assert.ok(!JSON.stringify(res.body).includes('secret') && !JSON.stringify(res.body).includes('alice'));
      }
    }));

    it('answers LOGIN_FAILED alike for an unknown user and a wrong password, rotating nothing', () => using(engine, PEOPLE, async ({ app, clock, tessera }) => {
      const events: TesseraEvent[] = [];
      tessera.events.on('event', (e) => events.push(e));
      const s = await SessionClient.create(app);
      const key = s.key;
      const wrong = await login(s, 'alice', 'not-her-password');
      const unknown = await login(s, 'mallory', 'whatever-password');
      const empty = await login(s, 'alice', '');
      for (const res of [wrong, unknown, empty]) {
        assertError(res, 401, 'LOGIN_FAILED');
        for (const h of ['session-id', 'session-key', 'session-expires']) assert.equal(res.headers[h], undefined, h);
      }
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(s.key, key);
      clock.advance(11_000); // past the grace window: the key was never replaced
      const still = await s.req('GET', '/v1/session');
      assert.equal(still.status, 200, 'the session stays usable with the same key');
      assert.equal(still.body.user, null);
      const failed = events.filter((e) => e.type === 'user.login_failed');
      assert.equal(failed.length, 3);
      assert.equal(failed[0].user, 'alice');
      assert.equal(failed[1].user, undefined, 'an unknown name is not echoed into events');
      assert.ok(!JSON.stringify(events).includes('not-her-password'));
    }));

    it('takes the same time for an unknown user and a wrong password (medians of 30 tries)', () => using(engine, { ...PEOPLE, login: { maxFailures: 1000, window: 60 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      await login(s, 'nobody', 'warm-up'); // the dummy hash and the code paths are warm
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 30; i++) {
        for (const [name, into] of [['alice', known], [`ghost-${i}`, unknown]] as const) {
          const t = performance.now();
          const res = await login(s, name, `wrong-${i}`);
          into.push(performance.now() - t);
          assert.equal(res.body.error.code, 'LOGIN_FAILED');
        }
      }
      const ratio = median(known) / median(unknown);
      assert.ok(ratio > 0.5 && ratio < 2, `median wrong-password ${median(known).toFixed(1)} ms vs unknown-user ${median(unknown).toFixed(1)} ms`);
      assert.ok(median(unknown) > 5, 'an unknown user costs a real hash verification');
    }));

    it('throttles a username after maxFailures within the window, right password or not, until the window has passed', () =>
      using(engine, { ...PEOPLE, login: { maxFailures: 3, window: 60 } }, async ({ app, clock }) => {
        for (let i = 0; i < 3; i++) {
          const other = await SessionClient.create(app);
          assertError(await login(other, 'alice', `guess-${i}`), 401, 'LOGIN_FAILED');
          clock.advance(1000);
        }
        const s = await SessionClient.create(app);
        const before = s.key;
        const res = await login(s, 'alice', 'alice-password-1');
        assertError(res, 429, 'LOGIN_THROTTLED');
        assert.equal(res.headers['retry-after'], '57');
        assert.equal(res.headers['session-id'], s.id, 'a 429 carries the session headers');
        assert.notEqual(s.key, before, 'and the next key');
        assert.equal((await s.req('GET', '/v1/session')).body.user, null);
        clock.advance(20_000);
        const later = await login(s, 'alice', 'alice-password-1');
        assertError(later, 429, 'LOGIN_THROTTLED');
        assert.equal(later.headers['retry-after'], '37', 'refused attempts do not extend the wait');
        assert.equal((await login(s, 'bob', 'bob-password-1')).status, 200, 'other usernames are not throttled');
        clock.advance(37_000);
        const after = await login(s, 'alice', 'alice-password-1');
        assert.equal(after.status, 200, 'the window has passed');
        assert.equal(after.body.user.name, 'alice');
      }));

    it('throttles a session after maxFailures across usernames, and unknown names count like known ones', () =>
      using(engine, { ...PEOPLE, login: { maxFailures: 3, window: 120 } }, async ({ app, clock }) => {
        const s = await SessionClient.create(app);
        for (const name of ['x1', 'x2', 'alice']) assertError(await login(s, name, 'nope'), 401, 'LOGIN_FAILED');
        const res = await login(s, 'bob', 'bob-password-1');
        assertError(res, 429, 'LOGIN_THROTTLED');
        assert.equal(res.headers['retry-after'], '120');
        const fresh = await SessionClient.create(app);
        assert.equal((await login(fresh, 'bob', 'bob-password-1')).status, 200, 'another session may log in');
        // An unknown name is throttled exactly like a known one: throttling does not reveal who exists.
        for (let i = 0; i < 3; i++) await login(await SessionClient.create(app), 'nobody-here', 'nope');
        const probe = await login(await SessionClient.create(app), 'nobody-here', 'nope');
        assertError(probe, 429, 'LOGIN_THROTTLED');
        clock.advance(120_000);
        assert.equal((await login(s, 'bob', 'bob-password-1')).status, 200);
      }));

    it('counts parallel attempts: no more than maxFailures get past the throttle', () =>
      using(engine, { ...PEOPLE, login: { maxFailures: 3, window: 60 } }, async ({ app }) => {
        const sessions = await Promise.all(Array.from({ length: 10 }, () => SessionClient.create(app)));
        const answers = await Promise.all(sessions.map((s, i) => login(s, 'alice', `parallel-${i}`)));
        const codes = answers.map((a) => a.body.error.code).sort();
        assert.equal(codes.filter((c) => c === 'LOGIN_FAILED').length, 3);
        assert.equal(codes.filter((c) => c === 'LOGIN_THROTTLED').length, 7);
      }));

    it('does not count a successful login as a failure', () => using(engine, { ...PEOPLE, login: { maxFailures: 2, window: 60 } }, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (let i = 0; i < 4; i++) {
        assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
        assert.equal((await s.req('POST', '/v1/session/logout')).status, 200);
      }
    }));

    it('logs out: user cleared, a new key with no grace, records kept', () => using(engine, PEOPLE, async ({ app, tessera }) => {
      const events: TesseraEvent[] = [];
      tessera.events.on('event', (e) => events.push(e));
      const s = await SessionClient.create(app);
      await login(s, 'alice', 'alice-password-1');
      await s.req('PUT', '/v1/session/records/note', { value: 'kept' });
      const before = s.key;
      const res = await s.req('POST', '/v1/session/logout');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { message: 'success' });
      assert.notEqual(s.key, before);
      assert.equal((await s.req('GET', '/v1/session')).body.user, null);
      assert.equal((await s.req('GET', '/v1/session/records/note')).body.value, 'kept');
      assert.deepEqual(events.filter((e) => e.type === 'user.logout').map((e) => [e.user, e.sessionId]), [['alice', s.id]]);
      assertError(await s.send('GET', '/v1/session', undefined, {}, before), 401, 'SESSION_KEY_REPLAYED');
    }));

    it('authorizes by the roles of the session user', () => using(engine, PEOPLE, async ({ app }) => {
      const s = await SessionClient.create(app);
      const ask = async (anyOf: unknown) => (await s.req('POST', '/v1/session/authorize', { anyOf })).body;
      assert.deepEqual(await ask(['customer']), { allowed: false }, 'no user, no roles');
      await login(s, 'bob', 'bob-password-1');
      assert.deepEqual(await ask(['staff']), { allowed: true });
      assert.deepEqual(await ask(['admin', 'customer']), { allowed: true });
      assert.deepEqual(await ask(['admin']), { allowed: false });
      assert.deepEqual(await ask([]), { allowed: false });
      for (const bad of [undefined, 'staff', [1], ['x\u0000'], ['a'.repeat(129)]]) {
        const res = await s.req('POST', '/v1/session/authorize', bad === undefined ? {} : { anyOf: bad });
        assertError(res, 400, 'INVALID_REQUEST');
      }
    }));

    it("enforces record types' readRoles and writeRoles with real users", () => using(engine, {
      ...PEOPLE, records: { profile: { writeRoles: ['customer'] }, ledger: { readRoles: ['staff'] } },
    }, async ({ app }) => {
      const s = await SessionClient.create(app);
      assertError(await s.req('PUT', '/v1/session/records/profile', { value: 1 }), 403, 'FORBIDDEN');
      await login(s, 'alice', 'alice-password-1');
      assert.equal((await s.req('PUT', '/v1/session/records/profile', { value: 1 })).status, 200);
      await s.req('PUT', '/v1/session/records/ledger', { value: 2 });
      assertError(await s.req('GET', '/v1/session/records/ledger'), 403, 'FORBIDDEN');
      await login(s, 'bob', 'bob-password-1');
      assert.equal((await s.req('GET', '/v1/session/records/ledger')).body.value, 2);
    }));

    it('refuses malformed login bodies with INVALID_REQUEST, rotating nothing', () => using(engine, PEOPLE, async ({ app }) => {
      const s = await SessionClient.create(app);
      const bad: unknown[] = [{}, { username: 'alice' }, { password: 'x' }, { username: 5, password: 'x' }, { username: 'alice', password: 5 },
        { username: 'a\u0007b', password: 'x' }, { username: 'a'.repeat(129), password: 'x' }, { username: '', password: 'x' },
        { anonymous: false }, { anonymous: 'yes' }, { anonymous: true, username: 'alice' }, { username: 'alice', password: 'x', extra: 1 },
        { username: 'alice', password: 'p'.repeat(5000) }, [1], 'alice'];
      const key = s.key;
      for (const body of bad) {
        const res = await s.req('POST', '/v1/session/login', body);
        assertError(res, 400, 'INVALID_REQUEST');
        assert.equal(s.key, key, 'the key stays as it was');
      }
      assert.equal((await s.req('GET', '/v1/session')).status, 200);
    }));

    it('never writes a password or a key into a log line', async () => {
      let log = '';
      const sink = new Writable({ write(chunk, _enc, done) { log += chunk.toString(); done(); } });
      const h = await makeHarness(engine, PEOPLE, sink);
      try {
        const s = await SessionClient.create(h.app);
        const keys = [s.key];
        await login(s, 'alice', 'wrong-password-typed'); keys.push(s.key);
        await login(s, 'alice', 'alice-password-1'); keys.push(s.key);
        await s.req('POST', '/v1/session/logout'); keys.push(s.key);
        await send(h.app, 'PUT', '/v1/admin/users/zed', { token: TOKENS.ops, body: { password: 'zed-password-1' } });
        assert.ok(log.length > 0, 'something was logged');
        for (const secret of ['wrong-password-typed', 'alice-password-1', 'zed-password-1', ...keys]) assert.ok(!log.includes(secret));
      } finally { await h.close(); }
    });

    it("treats another client's session at login like an unknown one", () => using(engine, PEOPLE, async ({ app }) => {
      const s = await SessionClient.create(app);
      const foreign = await send(app, 'POST', '/v1/session/login', { token: TOKENS.shop, body: { username: 'alice', password: 'alice-password-1' },
        headers: { 'session-id': s.id, 'session-key': s.key } });
      assertError(foreign, 401, 'SESSION_INVALID');
      assert.equal((await s.req('GET', '/v1/session')).body.user, null);
    }));
  });
}
