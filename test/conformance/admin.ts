import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TesseraEvent } from '../../src/service/tessera.js';
import { send, SessionClient, TOKENS, type Answer, type Harness, using } from '../helpers/harness.js';
import { login, PEOPLE } from './users.js';

const admin = (h: Harness, method: string, url: string, body?: unknown) => send(h.app, method, url, { token: TOKENS.ops, body });

function assertError(res: Answer, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
}

async function loggedIn(h: Harness, name: string, password: string, body?: unknown): Promise<SessionClient> {
  const s = await SessionClient.create(h.app, body);
  assert.equal((await login(s, name, password)).status, 200);
  return s;
}

/** Section 8's user administration and section 11's per-user session administration. */
export function adminSuite(engine: string): void {
  describe('administration of users and sessions (sections 8, 11)', () => {
    it('creates, reads, lists, changes and removes users; a new user needs a password', () => using(engine, PEOPLE, async (h) => {
      assertError(await admin(h, 'PUT', '/v1/admin/users/carol', { roles: ['customer'] }), 400, 'INVALID_REQUEST');
      const created = await admin(h, 'PUT', '/v1/admin/users/carol', { password: 'carol-password-1', roles: ['customer', 'customer', 'vip'] });
      assert.equal(created.status, 200);
      assert.deepEqual({ ...created.body, createdAt: 0, updatedAt: 0 }, { name: 'carol', roles: ['customer', 'vip'], createdAt: 0, updatedAt: 0 });
      assert.ok(!JSON.stringify(created.body).includes('carol-password-1') && !JSON.stringify(created.body).includes('argon2'));
      assert.deepEqual((await admin(h, 'GET', '/v1/admin/users/carol')).body.roles, ['customer', 'vip']);
      assert.deepEqual((await admin(h, 'GET', '/v1/admin/users')).body.users.map((u: { name: string }) => u.name), ['alice', 'bob', 'carol']);
      const s = await loggedIn(h, 'carol', 'carol-password-1');
      assert.deepEqual((await s.req('GET', '/v1/session')).body.user, { name: 'carol', roles: ['customer', 'vip'] });
      const removed = await admin(h, 'DELETE', '/v1/admin/users/carol');
      assert.deepEqual(removed.body, { deleted: true, ended: 1 });
      assertError(await admin(h, 'GET', '/v1/admin/users/carol'), 404, 'USER_NOT_FOUND');
      assertError(await admin(h, 'DELETE', '/v1/admin/users/carol'), 404, 'USER_NOT_FOUND');
      assertError(await s.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
      assertError(await login(await SessionClient.create(h.app), 'carol', 'carol-password-1'), 401, 'LOGIN_FAILED');
    }));

    it('refuses app clients (403) and unknown tokens (401) on every admin route', () => using(engine, PEOPLE, async (h) => {
      const s = await SessionClient.create(h.app);
      const routes: [string, string, unknown?][] = [
        ['GET', '/v1/admin/users'], ['GET', '/v1/admin/users/alice'], ['PUT', '/v1/admin/users/eve', { password: 'eve-password', roles: ['admin'] }],
        ['DELETE', '/v1/admin/users/alice'], ['GET', '/v1/admin/sessions?user=alice'], ['DELETE', '/v1/admin/sessions?user=alice'],
        ['GET', `/v1/admin/sessions/${s.id}`], ['DELETE', `/v1/admin/sessions/${s.id}`],
      ];
      for (const [method, url, body] of routes) {
        assertError(await send(h.app, method, url, { token: TOKENS.web, body }), 403, 'FORBIDDEN');
        assertError(await send(h.app, method, url, { token: TOKENS.portal, body }), 403, 'FORBIDDEN');
        assertError(await send(h.app, method, url, { token: 'not-a-token-0123456789', body }), 401, 'CLIENT_UNAUTHORIZED');
        assertError(await send(h.app, method, url, { token: null, body }), 401, 'CLIENT_UNAUTHORIZED');
      }
      assertError(await admin(h, 'GET', '/v1/admin/users/eve'), 404, 'USER_NOT_FOUND');
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'nothing was ended');
    }));

    it("ends a user's sessions when its password changes, and only that user's", () => using(engine, PEOPLE, async (h) => {
      const a1 = await loggedIn(h, 'alice', 'alice-password-1');
      const a2 = await loggedIn(h, 'alice', 'alice-password-1');
      const b = await loggedIn(h, 'bob', 'bob-password-1');
      assert.equal((await admin(h, 'PUT', '/v1/admin/users/alice', { password: 'alice-password-2' })).status, 200);
      for (const s of [a1, a2]) assertError(await s.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
      assert.equal((await b.req('GET', '/v1/session')).status, 200);
      assertError(await login(await SessionClient.create(h.app), 'alice', 'alice-password-1'), 401, 'LOGIN_FAILED');
      assert.equal((await login(await SessionClient.create(h.app), 'alice', 'alice-password-2')).status, 200);
    }));

    it('applies a role change to the user\'s sessions at their next request, with a new key and no grace', () => using(engine, PEOPLE, async (h) => {
      const per = await loggedIn(h, 'alice', 'alice-password-1');
      const onChange = await loggedIn(h, 'alice', 'alice-password-1', { rotation: 'on-privilege-change' });
      const other = await loggedIn(h, 'bob', 'bob-password-1', { rotation: 'on-privilege-change' });
      const res = await admin(h, 'PUT', '/v1/admin/users/alice', { roles: ['customer', 'staff'] });
      assert.deepEqual(res.body.roles, ['customer', 'staff']);
      for (const s of [per, onChange]) {
        const before = s.key;
        const served = await s.req('POST', '/v1/session/authorize', { anyOf: ['staff'] });
        assert.deepEqual(served.body, { allowed: true }, 'served under the new roles');
        assert.notEqual(s.key, before, 'with a new key');
        assert.deepEqual((await s.req('GET', '/v1/session')).body.user, { name: 'alice', roles: ['customer', 'staff'] });
        assertError(await s.send('GET', '/v1/session', undefined, {}, before), 401, 'SESSION_KEY_REPLAYED');
      }
      const otherKey = other.key;
      await other.req('GET', '/v1/session');
      assert.equal(other.key, otherKey, "another user's session is untouched");
      const again = await admin(h, 'PUT', '/v1/admin/users/bob', { roles: ['customer', 'staff'] });
      assert.equal(again.status, 200);
      await other.req('GET', '/v1/session');
      assert.equal(other.key, otherKey, 'the same roles again change nothing');
    }));

    it("lists a user's live sessions through the index, page by page", () => using(engine, PEOPLE, async (h) => {
      const mine = await Promise.all([1, 2, 3].map(() => loggedIn(h, 'alice', 'alice-password-1')));
      await loggedIn(h, 'bob', 'bob-password-1');
      await SessionClient.create(h.app);
      const ids = mine.map((s) => s.id).sort();
      const all = await admin(h, 'GET', '/v1/admin/sessions?user=alice');
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.sessions.map((s: { id: string }) => s.id), ids);
      assert.equal(all.body.next, null);
      const first = all.body.sessions[0];
      assert.deepEqual(Object.keys(first).sort(), ['client', 'createdAt', 'id', 'lastAccessAt', 'nextTimeout', 'user']);
      assert.equal(first.client, 'web');
      assert.deepEqual(first.user, { name: 'alice', roles: ['customer'] });
      assert.match(first.nextTimeout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const p1 = await admin(h, 'GET', '/v1/admin/sessions?user=alice&limit=2');
      assert.deepEqual(p1.body.sessions.map((s: { id: string }) => s.id), ids.slice(0, 2));
      assert.equal(p1.body.next, ids[1]);
      const p2 = await admin(h, 'GET', `/v1/admin/sessions?user=alice&limit=2&after=${p1.body.next}`);
      assert.deepEqual(p2.body.sessions.map((s: { id: string }) => s.id), ids.slice(2));
      assert.equal(p2.body.next, null);
      assert.deepEqual((await admin(h, 'GET', '/v1/admin/sessions?user=nobody')).body, { sessions: [], next: null });
      assert.equal((await admin(h, 'GET', '/v1/admin/sessions')).body.sessions.length, 5, 'without user: every session');
    }));

    it('keeps the index exact: no entry after end, expiry, revocation, logout or a change of user', () => using(engine, PEOPLE, async (h) => {
      const list = async (user: string) => (await admin(h, 'GET', `/v1/admin/sessions?user=${user}`)).body.sessions.map((s: { id: string }) => s.id);
      const ended = await loggedIn(h, 'alice', 'alice-password-1');
      const expiring = await loggedIn(h, 'alice', 'alice-password-1', { idleTimeout: 60 });
      const replayed = await loggedIn(h, 'alice', 'alice-password-1');
      const loggedOut = await loggedIn(h, 'alice', 'alice-password-1');
      const switched = await loggedIn(h, 'alice', 'alice-password-1');
      const stays = await loggedIn(h, 'alice', 'alice-password-1');
      assert.equal((await list('alice')).length, 6);
      await ended.req('DELETE', '/v1/session');
      const old = replayed.key;
      await replayed.req('GET', '/v1/session');
      await replayed.req('GET', '/v1/session');
      assertError(await replayed.send('GET', '/v1/session', undefined, {}, old), 401, 'SESSION_KEY_REPLAYED');
      await loggedOut.req('POST', '/v1/session/logout');
      await login(switched, 'bob', 'bob-password-1');
      h.clock.advance(61_000);
      assert.deepEqual(await list('alice'), [stays.id], 'the expired one is gone before any sweep');
      assert.deepEqual(await list('bob'), [switched.id]);
      await h.tessera.sweep();
      assert.deepEqual(await list('alice'), [stays.id]);
      assertError(await expiring.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
    }));

    it("ends every session of a user: DELETE /v1/admin/sessions?user=", () => using(engine, PEOPLE, async (h) => {
      const events: TesseraEvent[] = [];
      h.tessera.events.on('event', (e) => events.push(e));
      const a = [await loggedIn(h, 'alice', 'alice-password-1'), await loggedIn(h, 'alice', 'alice-password-1')];
      const b = await loggedIn(h, 'bob', 'bob-password-1');
      assert.deepEqual((await admin(h, 'DELETE', '/v1/admin/sessions?user=alice')).body, { ended: 2 });
      for (const s of a) assertError(await s.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
      assert.equal((await b.req('GET', '/v1/session')).status, 200);
      assert.deepEqual((await admin(h, 'DELETE', '/v1/admin/sessions?user=alice')).body, { ended: 0 });
      assert.equal(events.filter((e) => e.type === 'session.ended' && e.user === 'alice').length, 2);
      assert.equal((await login(await SessionClient.create(h.app), 'alice', 'alice-password-1')).status, 200, 'the user remains');
    }));

    it('reads and ends one session by id; an unknown id is SESSION_NOT_FOUND', () => using(engine, PEOPLE, async (h) => {
      const s = await loggedIn(h, 'alice', 'alice-password-1');
      const lastAccess = (await s.req('GET', '/v1/session')).body.lastAccessAt;
      h.clock.advance(5000);
      const read = await admin(h, 'GET', `/v1/admin/sessions/${s.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.id, s.id);
      assert.equal(read.body.client, 'web');
      assert.deepEqual(read.body.user, { name: 'alice', roles: ['customer'] });
      assert.equal(read.body.lastAccessAt, lastAccess, 'an admin read does not touch the session');
      assert.equal(read.headers['session-key'], undefined);
      for (const id of ['A'.repeat(22), 'nope', 'x'.repeat(300)]) {
        assertError(await admin(h, 'GET', `/v1/admin/sessions/${id}`), 404, 'SESSION_NOT_FOUND');
        assertError(await admin(h, 'DELETE', `/v1/admin/sessions/${id}`), 404, 'SESSION_NOT_FOUND');
      }
      assert.deepEqual((await admin(h, 'DELETE', `/v1/admin/sessions/${s.id}`)).body, { message: 'success' });
      assertError(await s.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
      assertError(await admin(h, 'GET', `/v1/admin/sessions/${s.id}`), 404, 'SESSION_NOT_FOUND');
      assertError(await admin(h, 'DELETE', `/v1/admin/sessions/${s.id}`), 404, 'SESSION_NOT_FOUND');
    }));

    it('refuses bad admin input with INVALID_REQUEST, never a 500', () => using(engine, PEOPLE, async (h) => {
      const bad: [string, string, unknown?][] = [
        ['GET', '/v1/admin/sessions?limit=0'], ['GET', '/v1/admin/sessions?limit=abc'], ['GET', '/v1/admin/sessions?limit=1001'],
        ['GET', '/v1/admin/sessions?user=a%00b'], ['GET', '/v1/admin/sessions?user=a&user=b'], ['GET', '/v1/admin/sessions?usr=alice'],
        ['GET', '/v1/admin/sessions?after=%20'], ['DELETE', '/v1/admin/sessions'], ['DELETE', '/v1/admin/sessions?user='],
        ['PUT', '/v1/admin/users/dave', { password: '' }], ['PUT', '/v1/admin/users/dave', { password: 5 }],
        ['PUT', '/v1/admin/users/dave', { password: 'dave-password', roles: 'staff' }], ['PUT', '/v1/admin/users/dave', { password: 'dave-password', roles: [''] }],
        ['PUT', '/v1/admin/users/dave', { password: 'dave-password', extra: 1 }], ['PUT', '/v1/admin/users/a%07b', { password: 'dave-password' }],
        ['PUT', `/v1/admin/users/${'n'.repeat(129)}`, { password: 'dave-password' }], ['PUT', '/v1/admin/users/anonymous', { password: 'dave-password' }],
        ['PUT', '/v1/admin/users/dave', [1]], ['GET', '/v1/admin/users/a%1Fb'],
      ];
      for (const [method, url, body] of bad) assertError(await admin(h, method, url, body), 400, 'INVALID_REQUEST');
      assert.deepEqual((await admin(h, 'GET', '/v1/admin/users')).body.users.map((u: { name: string }) => u.name), ['alice', 'bob']);
    }));
  });
}
