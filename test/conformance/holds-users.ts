import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeHarness, send, SessionClient, TOKENS } from '../helpers/harness.js';
import { login, PEOPLE } from './users.js';

/** Where holds meet users: login keeps holds, logout and a password change release them at once. */
export function holdsUsersSuite(engine: string): void {
  describe('holds and users (sections 8, 9)', () => {
    it('keeps holds across login and releases them at logout, capacity back at once', async () => {
      const h = await makeHarness(engine, PEOPLE);
      try {
        assert.equal((await send(h.app, 'PUT', '/v1/admin/pools/ga:E1', { token: TOKENS.ops, body: { capacity: 2 } })).status, 200);
        const s = await SessionClient.create(h.app);
        assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:E1:A1'] })).status, 201);
        assert.equal((await s.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2 })).status, 201);
        assert.equal((await login(s, 'alice', 'alice-password-1')).status, 200);
        const held = await s.req('GET', '/v1/session/holds');
        assert.equal(held.body.holds.length, 2, 'login keeps the holds');
        assert.equal((await s.req('POST', '/v1/session/logout')).status, 200);
        assert.deepEqual((await s.req('GET', '/v1/session/holds')).body.holds, [], 'logout released them');
        const other = await SessionClient.create(h.app);
        assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:E1:A1'] })).status, 201);
        assert.equal((await other.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2 })).status, 201);
      } finally { await h.close(); }
    });

    it("releases a user's holds when a password change ends the user's sessions", async () => {
      const h = await makeHarness(engine, PEOPLE);
      try {
        const s = await SessionClient.create(h.app);
        await login(s, 'alice', 'alice-password-1');
        assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:E1:B2'] })).status, 201);
        const change = await send(h.app, 'PUT', '/v1/admin/users/alice', { token: TOKENS.ops, body: { password: 'a-new-password-2' } });
        assert.equal(change.status, 200);
        assert.equal((await s.req('GET', '/v1/session')).status, 401, 'the session ended');
        const other = await SessionClient.create(h.app);
        assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:E1:B2'] })).status, 201, 'the seat is free again');
      } finally { await h.close(); }
    });
  });
}
