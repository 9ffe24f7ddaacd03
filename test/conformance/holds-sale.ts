import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TesseraEvent } from '../../src/service/tessera.js';
import { send, SessionClient, TOKENS, using } from '../helpers/harness.js';
import { at, names, setPool } from './holds.js';

/** Section 9 (the sale, release with the session) and section 10 (transfer). */
export function holdSaleTests(engine: string): void {
  describe('the sale (section 9)', () => {
    it('confirms holds into claims, which nobody can hold or confirm again until an admin frees them', () => using(engine, {}, async (h) => {
      const { app, clock } = h;
      await setPool(h, 'ga:E1', 5);
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      const held = await a.req('POST', '/v1/session/holds', { resources: ['seat:A1', 'seat:A2'] });
      await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2 });
      clock.advance(1000);
      const sale = await a.req('POST', '/v1/session/holds/confirm');
      assert.equal(sale.status, 200);
      assert.deepEqual(sale.body, { claims: [
        { pool: 'ga:E1', quantity: 2, token: 1, confirmedAt: at(clock()) },
        { resource: 'seat:A1', token: held.body.holds[0].token, confirmedAt: at(clock()) },
        { resource: 'seat:A2', token: held.body.holds[1].token, confirmedAt: at(clock()) },
      ] });
      assert.deepEqual((await a.req('GET', '/v1/session/holds')).body, { holds: [], claims: sale.body.claims });
      const taken = await b.req('POST', '/v1/session/holds', { resources: ['seat:A1', 'seat:B1'] });
      assert.equal(taken.body.error.code, 'HOLD_CONFLICT');
      assert.deepEqual(taken.body.error.details.conflicts, ['seat:A1']);
      assert.equal((await a.req('POST', '/v1/session/holds', { resources: ['seat:A1'] })).body.error.code, 'HOLD_CONFLICT', 'nor the buyer');
      assert.equal((await a.req('POST', '/v1/session/holds/confirm', { resources: ['seat:A1'] })).body.error.code, 'HOLDS_EXPIRED');
      assert.deepEqual((await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 4 })).body.error.details.available, 3, 'sold units stay sold');
      await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 1 });
      assert.equal((await a.req('POST', '/v1/session/holds/confirm', { resources: ['ga:E1'] })).body.claims[0].quantity, 3, 'pool claims add up');
      assert.equal((await send(app, 'DELETE', '/v1/admin/claims/seat:A1', { token: TOKENS.web })).status, 403);
      assert.deepEqual((await send(app, 'DELETE', '/v1/admin/claims/seat:A1', { token: TOKENS.ops })).body, { deleted: true });
      const gone = await send(app, 'DELETE', '/v1/admin/claims/seat:A1', { token: TOKENS.ops });
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'CLAIM_NOT_FOUND');
      const again = await b.req('POST', '/v1/session/holds', { resources: ['seat:A1'] });
      assert.equal(again.status, 201, 'freed');
      assert.ok(again.body.holds[0].token > held.body.holds[0].token, 'the token never goes back');
      assert.deepEqual(names((await a.req('GET', '/v1/session/holds')).body.claims), ['ga:E1', 'seat:A2']);
    }));

    it('confirms nothing when one hold named is not held, expired or superseded', () => using(engine, {}, async ({ app, clock }) => {
      const a = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['s:1', 's:2'], ttl: 600 });
      await a.req('POST', '/v1/session/holds', { resources: ['s:3'], ttl: 60 });
      const notHeld = await a.req('POST', '/v1/session/holds/confirm', { resources: ['s:1', 's:9'] });
      assert.equal(notHeld.status, 409);
      assert.equal(notHeld.body.error.code, 'HOLDS_EXPIRED');
      assert.deepEqual(notHeld.body.error.details.expired, ['s:9']);
      clock.advance(60_000);
      const all = await a.req('POST', '/v1/session/holds/confirm');
      assert.deepEqual(all.body.error.details.expired, ['s:3'], 'confirm of all includes the expired one');
      assert.equal((await a.req('GET', '/v1/session/holds')).body.error.code, 'HOLDS_EXPIRED', 'a confirm is not a read');
      assert.deepEqual(names((await a.req('GET', '/v1/session/holds')).body.holds), ['s:1', 's:2'], 'nothing was confirmed');
      assert.deepEqual(names((await a.req('POST', '/v1/session/holds/confirm')).body.claims), ['s:1', 's:2']);
      const empty = await a.req('POST', '/v1/session/holds/confirm');
      assert.equal(empty.body.error.code, 'HOLDS_EXPIRED', 'nothing held: nothing to sell');
    }));

    it('a holder that stalled past its ttl cannot confirm; the session that took the seat after it can', () => using(engine, {}, async ({ app, clock }) => {
      const stalled = await SessionClient.create(app);
      const next = await SessionClient.create(app);
      const first = await stalled.req('POST', '/v1/session/holds', { resources: ['seat:E1:A12'], ttl: 60 });
      clock.advance(61_000); // the holder stalls (a GC pause, a slow payment) past its ttl
      const taken = await next.req('POST', '/v1/session/holds', { resources: ['seat:E1:A12'], ttl: 60 });
      assert.equal(taken.status, 201);
      assert.ok(taken.body.holds[0].token > first.body.holds[0].token);
      const late = await stalled.req('POST', '/v1/session/holds/confirm', { resources: ['seat:E1:A12'] });
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, 'HOLDS_EXPIRED');
      assert.deepEqual(late.body.error.details.expired, ['seat:E1:A12']);
      const sale = await next.req('POST', '/v1/session/holds/confirm');
      assert.equal(sale.status, 200);
      assert.deepEqual(sale.body.claims.map((c: { resource: string; token: number }) => [c.resource, c.token]), [['seat:E1:A12', taken.body.holds[0].token]]);
      assert.deepEqual((await stalled.req('GET', '/v1/session/holds')).body.error.details.expired, ['seat:E1:A12']);
      assert.deepEqual((await stalled.req('GET', '/v1/session/holds')).body, { holds: [], claims: [] });
      // Stalled with nobody taking the seat: the store's clock still says no.
      const alone = await SessionClient.create(app);
      await alone.req('POST', '/v1/session/holds', { resources: ['seat:E1:A13'], ttl: 60 });
      clock.advance(60_000);
      assert.equal((await alone.req('POST', '/v1/session/holds/confirm')).body.error.code, 'HOLDS_EXPIRED');
    }));

    it('ending or expiring a session releases its live holds at once; its claims stay', () => using(engine, {}, async (h) => {
      const { app, clock, tessera } = h;
      await setPool(h, 'ga:E1', 3);
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app, { idleTimeout: 60 });
      const c = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['seat:1', 'seat:sold'] });
      await a.req('POST', '/v1/session/holds/confirm', { resources: ['seat:sold'] });
      await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3 });
      await a.req('DELETE', '/v1/session');
      assert.equal((await c.req('POST', '/v1/session/holds', { resources: ['seat:1'] })).status, 201);
      assert.equal((await c.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3, ttl: 30 })).status, 201, 'capacity back at once');
      assert.equal((await c.req('POST', '/v1/session/holds', { resources: ['seat:sold'] })).body.error.code, 'HOLD_CONFLICT', 'a sale is permanent');
      clock.advance(30_000);
      await b.req('POST', '/v1/session/holds', { resources: ['seat:2'], ttl: 3600 });
      await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3, ttl: 3600 });
      clock.advance(60_000); // b's session expires; its holds would live on
      await tessera.sweep();
      assert.equal((await c.req('POST', '/v1/session/holds', { resources: ['seat:2'] })).status, 201);
      assert.equal((await c.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3 })).status, 201);
    }));

    it('releases every hold through the service operation logout uses', () => using(engine, {}, async ({ app, tessera }) => {
      const a = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['seat:1', 'seat:2'] });
      const client = { id: 'web', roles: ['app'] as const };
      const { result, key } = await tessera.withSession(client, a, (ctx) => tessera.releaseHolds(ctx));
      a.key = key;
      assert.deepEqual(result.released, ['seat:1', 'seat:2']);
      assert.deepEqual((await a.req('GET', '/v1/session/holds')).body.holds, []);
    }));

    it('emits hold and transfer events, never a key', () => using(engine, {}, async ({ app, clock, tessera }) => {
      const events: TesseraEvent[] = [];
      tessera.events.on('event', (e) => events.push(e));
      const a = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['s:1', 's:2', 's:3'], ttl: 60 });
      await a.req('POST', '/v1/session/holds', { resources: ['s:1'], ttl: 60 }); // an extension: no new event
      await a.req('DELETE', '/v1/session/holds/s:2');
      await a.req('POST', '/v1/session/holds/confirm', { resources: ['s:1'] });
      clock.advance(60_000);
      await tessera.sweep();
      await tessera.sweep();
      await a.req('GET', '/v1/session/holds');
      const moved = await a.req('POST', '/v1/session/transfer');
      const seen = events.filter((e) => e.type !== 'session.created').map((e) => [e.type, e.resource ?? e.to, e.sessionId]);
      assert.deepEqual(seen, [
        ['hold.acquired', 's:1', a.id], ['hold.acquired', 's:2', a.id], ['hold.acquired', 's:3', a.id],
        ['hold.released', 's:2', a.id], ['hold.confirmed', 's:1', a.id], ['hold.expired', 's:3', a.id],
        ['session.transferred', moved.body.id, a.id],
      ]);
      assert.ok(!JSON.stringify(events).includes(moved.body.key));
    }));
  });

  describe('transfer (section 10)', () => {
    it('moves the session to a new id and key with its user, records, holds and claims; the old one is gone', () => using(engine, {}, async ({ app, clock }) => {
      const a = await SessionClient.create(app, { idleTimeout: 600 });
      const other = await SessionClient.create(app);
      await a.req('PUT', '/v1/session/records/cart', { value: { seats: 2 } });
      const held = await a.req('POST', '/v1/session/holds', { resources: ['seat:1', 'seat:2'] });
      await a.req('POST', '/v1/session/holds/confirm', { resources: ['seat:2'] });
      const oldId = a.id;
      const oldKey = a.key;
      clock.advance(5000);
      const res = await a.send('POST', '/v1/session/transfer');
      assert.equal(res.status, 201);
      assert.deepEqual(Object.keys(res.body).sort(), ['id', 'key', 'nextTimeout']);
      assert.notEqual(res.body.id, oldId);
      assert.notEqual(res.body.key, oldKey);
      assert.equal(res.body.nextTimeout, at(clock() + 600_000));
      assert.equal(res.headers['session-id'], res.body.id);
      assert.equal(res.headers['session-key'], res.body.key);
      assert.equal(res.headers['session-expires'], res.body.nextTimeout);
      for (const key of [oldKey, res.body.key]) {
        const old = await send(app, 'GET', '/v1/session', { headers: { 'session-id': oldId, 'session-key': key } });
        assert.equal(old.status, 401);
        assert.equal(old.body.error.code, 'SESSION_INVALID');
      }
      a.id = res.body.id;
      a.key = res.body.key;
      assert.equal((await a.req('GET', '/v1/session')).body.id, a.id);
      assert.deepEqual((await a.req('GET', '/v1/session/records/cart')).body.value, { seats: 2 });
      const holds = await a.req('GET', '/v1/session/holds');
      assert.deepEqual(holds.body.holds, [held.body.holds[0]], 'same hold, same token');
      assert.deepEqual(names(holds.body.claims), ['seat:2']);
      assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:1'] })).body.error.code, 'HOLD_CONFLICT');
      assert.equal((await a.req('POST', '/v1/session/holds/confirm')).status, 200, 'the new session can sell what the old one held');
      const byOther = await send(app, 'POST', '/v1/session/transfer', { token: TOKENS.shop, headers: { 'session-id': a.id, 'session-key': a.key } });
      assert.equal(byOther.status, 401, 'another client cannot transfer it');
      const admin = await send(app, 'POST', '/v1/session/transfer', { token: TOKENS.ops, headers: { 'session-id': a.id, 'session-key': a.key } });
      assert.equal(admin.status, 201);
      const owner = await send(app, 'GET', '/v1/session', { token: TOKENS.web, headers: { 'session-id': admin.body.id, 'session-key': admin.body.key } });
      assert.equal(owner.status, 200, 'the same client owns it after an admin transferred it');
    }));
  });
}
