import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, TOKENS, type Answer, type Harness, using } from '../helpers/harness.js';
import { login, PEOPLE } from './users.js';

const admin = (h: Harness, method: string, url: string, body?: unknown) => send(h.app, method, url, { token: TOKENS.ops, body });

function assertError(res: Answer, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
}

/** Follows a transfer: the client now speaks for the new session. */
async function transfer(s: SessionClient): Promise<{ oldId: string; oldKey: string }> {
  const before = { oldId: s.id, oldKey: s.key };
  const res = await s.req('POST', '/v1/session/transfer');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.headers['session-id'], res.body.id);
  assert.equal(res.headers['session-key'], res.body.key);
  s.id = res.body.id;
  s.key = res.body.key;
  return before;
}

/**
 * Features in combination: transfer with login, logout, the user index and
 * an admin's password and role changes. Each of these passed on its own while
 * a combination failed on one engine (the memory engine's transfer left the
 * user index behind), so they run on every engine.
 */
export function combinationsSuite(engine: string): void {
  describe('features in combination: transfer × login × user administration', () => {
    it("a logged-in session keeps its user across a transfer: the admin listing by user names the new id, and a password change ends it", () =>
      using(engine, PEOPLE, async (h) => {
        const s = await SessionClient.create(h.app);
        assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
        const { oldId, oldKey } = await transfer(s);
        assert.deepEqual((await s.req('GET', '/v1/session')).body.user, { name: 'alice', roles: ['customer'] });

        const listed = await admin(h, 'GET', '/v1/admin/sessions?user=alice');
        assert.equal(listed.status, 200);
        assert.deepEqual(listed.body.sessions.map((x: { id: string }) => x.id), [s.id], 'the new id, not the old one');
        assert.equal(listed.body.sessions[0].user?.name, 'alice');
        assertError(await admin(h, 'GET', `/v1/admin/sessions/${oldId}`), 404, 'SESSION_NOT_FOUND');
        assertError(await s.send('GET', '/v1/session', undefined, {}, oldKey).then((r) => r), 401, 'SESSION_INVALID');

        assert.equal((await admin(h, 'PUT', '/v1/admin/users/alice', { password: 'alice-password-2' })).status, 200);
        assertError(await s.req('GET', '/v1/session'), 401, 'SESSION_INVALID');
        assert.deepEqual((await admin(h, 'GET', '/v1/admin/sessions?user=alice')).body.sessions, []);
      }));

    it('a transferred session logs out: user cleared, holds released, a new key; the listing by user is empty', () =>
      using(engine, PEOPLE, async (h) => {
        const s = await SessionClient.create(h.app);
        assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
        assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:C1:A1'] })).status, 201);
        await transfer(s);
        const keyBefore = s.key;
        const out = await s.req('POST', '/v1/session/logout');
        assert.equal(out.status, 200, JSON.stringify(out.body));
        assert.notEqual(s.key, keyBefore, 'logout answers a new key');
        assert.equal((await s.req('GET', '/v1/session')).body.user, null);
        assert.deepEqual((await s.req('GET', '/v1/session/holds')).body.holds, []);
        assert.deepEqual((await admin(h, 'GET', '/v1/admin/sessions?user=alice')).body.sessions, []);
        // The seat is free for someone else.
        const other = await SessionClient.create(h.app);
        assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:C1:A1'] })).status, 201);
      }));

    it('roles changed by an admin after a transfer reach the transferred session with a new key', () =>
      using(engine, PEOPLE, async (h) => {
        const s = await SessionClient.create(h.app, { rotation: 'on-privilege-change' });
        assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
        await transfer(s);
        const keyBefore = s.key;
        assert.equal((await s.req('GET', '/v1/session')).status, 200);
        assert.equal(s.key, keyBefore, 'on-privilege-change: no rotation without a change');
        assert.equal((await admin(h, 'PUT', '/v1/admin/users/alice', { roles: ['customer', 'vip'] })).status, 200);
        const after = await s.req('GET', '/v1/session');
        assert.equal(after.status, 200);
        assert.deepEqual(after.body.user.roles, ['customer', 'vip']);
        assert.notEqual(s.key, keyBefore, 'the role change rotated the key');
        assertError(await s.send('GET', '/v1/session', undefined, {}, keyBefore), 401, 'SESSION_KEY_REPLAYED');
      }));

    it('pages every live session with after and no user, each exactly once', () => using(engine, PEOPLE, async (h) => {
      const made = new Set<string>();
      for (let i = 0; i < 7; i++) made.add((await SessionClient.create(h.app)).id);
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const url = `/v1/admin/sessions?limit=3${after ? `&after=${after}` : ''}`;
        const res = await admin(h, 'GET', url);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(res.body.sessions.length <= 3);
        seen.push(...res.body.sessions.map((x: { id: string }) => x.id));
        after = res.body.next;
        if (after === null) break;
      }
      assert.equal(after, null, 'the last page says there is no next');
      assert.deepEqual([...seen].sort(), [...made].sort(), 'every session once');
      assert.deepEqual(seen, [...seen].sort(), 'in id order');
    }));
  });
}
