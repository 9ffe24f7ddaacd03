import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, TOKENS, type Harness, using } from '../helpers/harness.js';
import { holdRaceTests } from './holds-race.js';
import { holdSaleTests } from './holds-sale.js';

export const at = (ms: number) => new Date(ms).toISOString();
export const names = (list: { resource?: string; pool?: string }[]) => list.map((h) => h.resource ?? h.pool);

export async function setPool(h: Harness, name: string, capacity: number) {
  const res = await send(h.app, 'PUT', `/v1/admin/pools/${name}`, { token: TOKENS.ops, body: { capacity } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Sections 9 and 10: holds, pools, the sale, transfer. */
export function holdsSuite(engine: string): void {
  describe('holds (section 9)', () => {
    it('holds resources all or nothing, naming every conflict', () => using(engine, {}, async ({ app, clock }) => {
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      const res = await a.req('POST', '/v1/session/holds', { resources: ['seat:E1:A1', 'seat:E1:A2'] });
      assert.equal(res.status, 201);
      assert.deepEqual(res.body, { holds: [
        { resource: 'seat:E1:A1', token: 1, expiresAt: at(clock() + 900_000) },
        { resource: 'seat:E1:A2', token: 1, expiresAt: at(clock() + 900_000) },
      ] });
      assert.equal(typeof res.headers['session-key'], 'string', 'a session-bound answer');
      const conflict = await b.req('POST', '/v1/session/holds', { resources: ['seat:E1:A3', 'seat:E1:A2', 'seat:E1:A1'] });
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.error.code, 'HOLD_CONFLICT');
      assert.deepEqual(conflict.body.error.details.conflicts.sort(), ['seat:E1:A1', 'seat:E1:A2']);
      assert.deepEqual((await b.req('GET', '/v1/session/holds')).body, { holds: [], claims: [] }, 'nothing taken: all or nothing');
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['seat:E1:A3'] })).status, 201, 'A3 was never taken');
    }));

    it('extends a hold held again, keeping its token; caps the ttl at holds.maxTtl', () => using(engine, { holds: { defaultTtl: 60, maxTtl: 600 } }, async ({ app, clock }) => {
      const a = await SessionClient.create(app);
      const first = await a.req('POST', '/v1/session/holds', { resources: ['seat:1'] });
      assert.equal(first.body.holds[0].expiresAt, at(clock() + 60_000));
      clock.advance(30_000);
      const again = await a.req('POST', '/v1/session/holds', { resources: ['seat:1', 'seat:2'], ttl: 100_000 });
      assert.equal(again.status, 201);
      assert.deepEqual(again.body.holds.map((h: { token: number }) => h.token), [first.body.holds[0].token, 1]);
      assert.equal(again.body.holds[0].expiresAt, at(clock() + 600_000), 'capped at maxTtl');
      const shorter = await a.req('POST', '/v1/session/holds', { resources: ['seat:1'], ttl: 5 });
      assert.equal(shorter.body.holds[0].expiresAt, at(clock() + 600_000), 'holding again never shortens');
    }));

    it('never lets an expired hold block anyone, swept or not, and gives the next holder a greater token', () => using(engine, {}, async ({ app, clock }) => {
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      const first = await a.req('POST', '/v1/session/holds', { resources: ['seat:X'], ttl: 60 });
      clock.advance(59_999);
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['seat:X'] })).status, 409, 'live 1 ms before its expiry');
      clock.advance(1);
      const taken = await b.req('POST', '/v1/session/holds', { resources: ['seat:X'] });
      assert.equal(taken.status, 201, 'expired by the store clock, no sweep needed');
      assert.ok(taken.body.holds[0].token > first.body.holds[0].token);
      await b.req('DELETE', '/v1/session/holds/seat:X');
      const retaken = await a.req('POST', '/v1/session/holds', { resources: ['seat:X'] });
      assert.ok(retaken.body.holds[0].token > taken.body.holds[0].token, 'tokens only grow per resource');
    }));

    it('holds quantities of a pool and returns capacity on release and on expiry', () => using(engine, {}, async (h) => {
      const { app, clock } = h;
      assert.deepEqual(await setPool(h, 'ga:E1', 5), { pool: 'ga:E1', capacity: 5, available: 5 });
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      const first = await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2, ttl: 60 });
      assert.equal(first.status, 201);
      assert.deepEqual(first.body, { holds: [{ pool: 'ga:E1', quantity: 2, token: 1, expiresAt: at(clock() + 60_000) }] });
      clock.advance(10_000);
      const more = await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 1, ttl: 60 });
      assert.deepEqual(more.body.holds[0], { pool: 'ga:E1', quantity: 3, token: 1, expiresAt: at(clock() + 60_000) }, 'adds and extends');
      const short = await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3 });
      assert.equal(short.status, 409);
      assert.equal(short.body.error.code, 'POOL_EXHAUSTED');
      assert.deepEqual(short.body.error.details, { pool: 'ga:E1', requested: 3, available: 2 });
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2 })).status, 201);
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 1 })).body.error.code, 'POOL_EXHAUSTED');
      assert.deepEqual((await a.req('DELETE', '/v1/session/holds/ga:E1')).body, { released: ['ga:E1'] });
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 3, ttl: 30 })).body.holds[0].quantity, 5, 'released units return at once');
      clock.advance(900_000);
      const c = await SessionClient.create(app);
      assert.equal((await c.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 5 })).status, 201, 'expired units return, unswept');
      assert.equal((await setPool(h, 'ga:E1', 8)).available, 3, 'a capacity change keeps what is held');
    }));

    it('refuses a pool that does not exist, and a pool name held as a resource', () => using(engine, {}, async (h) => {
      const a = await SessionClient.create(h.app);
      const none = await a.req('POST', '/v1/session/holds', { pool: 'ga:nothing', quantity: 1 });
      assert.equal(none.status, 409);
      assert.equal(none.body.error.code, 'POOL_EXHAUSTED');
      assert.equal(none.body.error.details.available, 0);
      await setPool(h, 'ga:E2', 10);
      const asResource = await a.req('POST', '/v1/session/holds', { resources: ['ga:E2'] });
      assert.equal(asResource.status, 400);
      assert.equal(asResource.body.error.code, 'INVALID_REQUEST');
      await a.req('POST', '/v1/session/holds', { resources: ['seat:Z'] });
      const poolOverSeat = await send(h.app, 'PUT', '/v1/admin/pools/seat:Z', { token: TOKENS.ops, body: { capacity: 3 } });
      assert.equal(poolOverSeat.status, 409);
      assert.equal(poolOverSeat.body.error.code, 'HOLD_CONFLICT');
    }));

    it('answers HOLDS_EXPIRED once with details.expired, then lists what is left', () => using(engine, {}, async (h) => {
      const { app, clock } = h;
      await setPool(h, 'ga:E1', 10);
      const a = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['seat:short'], ttl: 60 });
      await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 2, ttl: 60 });
      const long = await a.req('POST', '/v1/session/holds', { resources: ['seat:long'], ttl: 600 });
      assert.equal((await a.req('GET', '/v1/session/holds')).body.holds.length, 3);
      clock.advance(60_000);
      const expired = await a.req('GET', '/v1/session/holds');
      assert.equal(expired.status, 409);
      assert.equal(expired.body.error.code, 'HOLDS_EXPIRED');
      assert.deepEqual(expired.body.error.details.expired.sort(), ['ga:E1', 'seat:short']);
      assert.equal(typeof expired.headers['session-key'], 'string', 'credentials accepted: the answer rotates the key');
      const after = await a.req('GET', '/v1/session/holds');
      assert.equal(after.status, 200);
      assert.deepEqual(after.body, { holds: long.body.holds, claims: [] });
      await h.tessera.sweep();
      clock.advance(600_000);
      await h.tessera.sweep(); // a sweep does not swallow the report
      assert.deepEqual((await a.req('GET', '/v1/session/holds')).body.error.details.expired, ['seat:long']);
    }));

    it('renews live holds and releases one or all', () => using(engine, {}, async (h) => {
      const { app, clock } = h;
      await setPool(h, 'ga:E1', 4);
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      await a.req('POST', '/v1/session/holds', { resources: ['s:1', 's:2', 's:3'], ttl: 60 });
      await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 4, ttl: 60 });
      clock.advance(50_000);
      const renewed = await a.req('POST', '/v1/session/holds/renew', { ttl: 120 });
      assert.equal(renewed.status, 200);
      assert.deepEqual(renewed.body.holds.map((x: { expiresAt: string }) => x.expiresAt), Array(4).fill(at(clock() + 120_000)));
      const byDefault = await a.req('POST', '/v1/session/holds/renew');
      assert.equal(byDefault.body.holds[0].expiresAt, at(clock() + 900_000), 'default ttl');
      assert.deepEqual((await a.req('DELETE', '/v1/session/holds/s:2')).body, { released: ['s:2'] });
      assert.deepEqual((await a.req('DELETE', '/v1/session/holds/s:2')).body, { released: [] }, 'not held: nothing to release');
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['s:2'] })).status, 201);
      assert.deepEqual((await a.req('DELETE', '/v1/session/holds')).body.released.sort(), ['ga:E1', 's:1', 's:3']);
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['s:1', 's:3'] })).status, 201);
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 4 })).status, 201);
      assert.deepEqual((await a.req('GET', '/v1/session/holds')).body, { holds: [], claims: [] });
    }));

    it('lists live holds for admins by prefix', () => using(engine, {}, async (h) => {
      const a = await SessionClient.create(h.app);
      await a.req('POST', '/v1/session/holds', { resources: ['seat:E1:A1', 'seat:E2:A1', 'bar:1'] });
      const res = await send(h.app, 'GET', '/v1/admin/holds?prefix=seat:', { token: TOKENS.ops });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.holds.map((x: { resource: string; sessionId: string }) => [x.resource, x.sessionId]),
        [['seat:E1:A1', a.id], ['seat:E2:A1', a.id]]);
      assert.equal((await send(h.app, 'GET', '/v1/admin/holds', { token: TOKENS.ops })).body.holds.length, 3);
      assert.equal((await send(h.app, 'GET', '/v1/admin/holds', { token: TOKENS.web })).status, 403);
      assert.equal((await send(h.app, 'GET', '/v1/admin/holds?limit=0', { token: TOKENS.ops })).status, 400);
      assert.equal((await send(h.app, 'GET', '/v1/admin/holds?prefix=%20', { token: TOKENS.ops })).status, 400);
    }));

    it('describes the hold, transfer and admin routes in /openapi.json', () => using(engine, {}, async ({ app }) => {
      const doc = await send(app, 'GET', '/openapi.json', { token: null });
      for (const path of ['/v1/session/holds', '/v1/session/holds/{resource}', '/v1/session/holds/renew', '/v1/session/holds/confirm',
        '/v1/session/transfer', '/v1/admin/pools/{name}', '/v1/admin/claims/{resource}', '/v1/admin/holds']) {
        assert.ok(doc.body.paths[path], path);
      }
      assert.ok(doc.body.components.schemas.Error.properties.error.properties.code.enum.includes('CLAIM_NOT_FOUND'));
    }));

    it('refuses malformed hold requests with INVALID_REQUEST, keeping what is held', () => using(engine, {}, async (h) => {
      await setPool(h, 'ga:E1', 10);
      const a = await SessionClient.create(h.app);
      await a.req('POST', '/v1/session/holds', { resources: ['seat:keep'] });
      const bad: unknown[] = [undefined, {}, [], 'seat', { resources: [] }, { resources: 'seat:1' }, { resources: [''] },
        { resources: ['a b'] }, { resources: ['x'.repeat(201)] }, { resources: [1] }, { resources: ['s'], ttl: 0 },
        { resources: ['s'], ttl: 1.5 }, { resources: ['s'], quantity: 1 }, { resources: ['s'], pool: 'ga:E1', quantity: 1 },
        { pool: 'ga:E1' }, { pool: 'ga:E1', quantity: 0 }, { pool: 'ga:E1', quantity: -1 }, { pool: 'ga:E1', quantity: '2' },
        { pool: '', quantity: 1 }, { resources: ['s'], colour: 'red' }, { resources: Array(1001).fill('s') }];
      for (const body of bad) {
        const res = await a.req('POST', '/v1/session/holds', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
      for (const [method, url, body] of [['POST', '/v1/session/holds/renew', { ttl: -1 }], ['POST', '/v1/session/holds/confirm', { resources: 'x' }],
        ['POST', '/v1/session/holds/confirm', { resources: [] }], ['DELETE', `/v1/session/holds/${'x'.repeat(300)}`, undefined],
        ['DELETE', '/v1/session/holds/a%20b', undefined]] as const) {
        assert.equal((await a.req(method, url, body)).status, 400, url);
      }
      for (const body of [{}, { capacity: -1 }, { capacity: 1.5 }, { capacity: '3' }, { capacity: 3, extra: 1 }]) {
        assert.equal((await send(h.app, 'PUT', '/v1/admin/pools/ga:E1', { token: TOKENS.ops, body })).status, 400, JSON.stringify(body));
      }
      assert.equal((await send(h.app, 'PUT', '/v1/admin/pools/ga:E1', { token: TOKENS.web, body: { capacity: 1 } })).status, 403);
      const after = await a.req('GET', '/v1/session/holds');
      assert.deepEqual(names(after.body.holds), ['seat:keep']);
      assert.equal((await a.req('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: 10 })).status, 201, 'capacity unchanged');
    }));
  });

  holdSaleTests(engine);
  holdRaceTests(engine);
}
