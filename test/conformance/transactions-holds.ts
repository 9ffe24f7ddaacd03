import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SessionClient, using } from '../helpers/harness.js';
import { setPool } from './holds.js';

const TX = '/v1/session/transactions';
const hold = (s: SessionClient, body: unknown) => s.req('POST', '/v1/session/holds', body);
const held = async (s: SessionClient) => (await s.req('GET', '/v1/session/holds')).body.holds
  .map((h: { resource?: string; pool?: string; quantity?: number }) => h.resource ?? `${h.pool}x${h.quantity}`);

/** Section 6: holds taken in a scope take effect at once and are released when that scope rolls back. */
export function transactionHoldTests(engine: string): void {
  it('holds taken in a scope block others at once, and its rollback releases exactly those', () => using(engine, {}, async ({ app, tessera }) => {
    const events: string[] = [];
    tessera.events.on('event', (e) => { if (e.type === 'hold.released') events.push(e.resource!); });
    const a = await SessionClient.create(app);
    const b = await SessionClient.create(app);
    await hold(a, { resources: ['seat:1'] });
    await a.req('POST', TX);
    assert.equal((await hold(a, { resources: ['seat:1', 'seat:2'] })).status, 201, 'seat:1 extended, seat:2 taken in the scope');
    assert.equal((await hold(b, { resources: ['seat:2'] })).status, 409, 'in effect at once');
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), ['seat:1'], 'the hold from before the scope stays');
    assert.deepEqual(events, ['seat:2']);
    assert.equal((await hold(b, { resources: ['seat:2'] })).status, 201);
  }));

  it('a committed scope keeps its holds; an inner scope merged into an outer one is released by the outer rollback', () => using(engine, {}, async ({ app }) => {
    const a = await SessionClient.create(app);
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:A'] });
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:B'] });
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:C'] });
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), ['seat:A', 'seat:B']);
    await a.req('POST', `${TX}/commit`);
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), [], 'B was merged into the outer scope, and went with it');
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:D'] });
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:E'] });
    await a.req('POST', `${TX}/rollback?all=true`);
    assert.deepEqual(await held(a), []);
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:F'] });
    await a.req('POST', `${TX}/commit`);
    assert.deepEqual(await held(a), ['seat:F'], 'committed: kept');
  }));

  it('a pool gives back the units its scope added, and keeps the rest', () => using(engine, {}, async (h) => {
    await setPool(h, 'ga:E1', 10);
    const a = await SessionClient.create(h.app);
    await hold(a, { pool: 'ga:E1', quantity: 2 });
    await a.req('POST', TX);
    await hold(a, { pool: 'ga:E1', quantity: 3 });
    await a.req('POST', TX);
    await hold(a, { pool: 'ga:E1', quantity: 1 });
    assert.deepEqual(await held(a), ['ga:E1x6']);
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), ['ga:E1x5']);
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), ['ga:E1x2']);
    await a.req('POST', TX);
    await hold(a, { pool: 'ga:E2', quantity: 1 }).then((r) => assert.equal(r.status, 409, 'no such pool: nothing noted'));
    await setPool(h, 'ga:E2', 5);
    await hold(a, { pool: 'ga:E2', quantity: 4 });
    await a.req('POST', `${TX}/rollback`);
    assert.deepEqual(await held(a), ['ga:E1x2']);
  }));

  it('a hold released or confirmed inside a scope stays so after its rollback', () => using(engine, {}, async ({ app }) => {
    const a = await SessionClient.create(app);
    const b = await SessionClient.create(app);
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:R', 'seat:S'] });
    await a.req('DELETE', '/v1/session/holds/seat:R');
    assert.equal((await a.req('POST', '/v1/session/holds/confirm', { resources: ['seat:S'] })).status, 200);
    await a.req('POST', `${TX}/rollback`);
    assert.equal((await hold(b, { resources: ['seat:R'] })).status, 201);
    assert.equal((await hold(b, { resources: ['seat:S'] })).status, 409, 'the sale is not undone');
  }));

  it('a rollback does not release a name that was re-granted since (another token)', () => using(engine, {}, async ({ app, clock }) => {
    const a = await SessionClient.create(app);
    const b = await SessionClient.create(app);
    await a.req('POST', TX);
    await hold(a, { resources: ['seat:Q'], ttl: 10 });
    clock.advance(11_000);
    assert.equal((await hold(b, { resources: ['seat:Q'] })).status, 201, 'expired: b takes it');
    await a.req('POST', `${TX}/rollback`);
    const list = (await b.req('GET', '/v1/session/holds')).body.holds;
    assert.deepEqual(list.map((x: { resource: string; token: number }) => [x.resource, x.token]), [['seat:Q', 2]]);
  }));
}
