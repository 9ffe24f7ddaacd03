/**
 * Scopes and cursors on Redis, beyond the conformance suite: their keys live
 * under the session's tag, carry its TTL backstop and go with it (ended or
 * swept); a scope opened through one node is served and committed by another.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { manualClock } from '../src/core/clock.js';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { createRedisStore } from '../src/store/redis/index.js';
import { CLIENTS, SessionClient } from './helpers/harness.js';
import { startRedis } from './helpers/redis.js';

const server = await startRedis();
const redis = new Redis({ port: server.port, host: '127.0.0.1' });
after(async () => {
  redis.disconnect();
  await server.stop();
});

const config = { clients: CLIENTS, records: { results: { kind: 'multiple' } } };

async function node(prefix: string, clock: ReturnType<typeof manualClock>) {
  const tessera = new Tessera({ config, clock, store: await createRedisStore({ nodes: [{ host: '127.0.0.1', port: server.port }], prefix, clock }) });
  const app = buildServer(tessera);
  return { tessera, app, async close() { await app.close(); await tessera.close(); } };
}

/** The session's own keys (the queue's lease and line, l, q and qa, expire by themselves: redis-queue.ts). */
async function keysOf(prefix: string, id: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:{${id}}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out.map((k) => k.slice(k.indexOf('}') + 2)).filter((k) => !['l', 'q', 'qa'].includes(k)).sort();
}

/** A session with two scopes open (rows, a hold noted in each) and a cursor. */
async function busy(s: SessionClient): Promise<void> {
  for (const k of ['a', 'b', 'c']) assert.equal((await s.req('PUT', `/v1/session/records/results/${k}`, { value: k })).status, 200);
  assert.equal((await s.req('POST', '/v1/session/transactions')).status, 200);
  await s.req('PUT', '/v1/session/records/results/d', { value: 'd' });
  assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:R1:1'] })).status, 201);
  assert.equal((await s.req('POST', '/v1/session/transactions')).status, 200);
  await s.req('DELETE', '/v1/session/records/results/a');
  assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:R1:2'] })).status, 201);
  assert.equal((await s.req('POST', '/v1/session/cursors', { record: 'results', pageSize: 2 })).status, 201);
}

test("a session's scope and cursor keys carry its TTL and go when it ends or is swept", async () => {
  const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
  const n = await node('sk', clock);
  try {
    const s = await SessionClient.create(n.app, { idleTimeout: 60 });
    const fresh = await redis.pttl(`sk:{${s.id}}:s`);
    assert.ok(fresh > 60_000 + 3_590_000 && fresh <= 60_000 + 3_600_000, `a new session's hash lives until its next timeout and the margin (${fresh} ms)`);
    await busy(s);
    const keys = await keysOf('sk', s.id);
    const cursorId = keys.find((k) => k.startsWith('cu:'))!.slice(3);
    assert.deepEqual(keys.filter((k) => !k.startsWith('r:')),
      ['ci:' + cursorId, 'cs', 'cu:' + cursorId, 'hn', 'rb', 'rn', 's', 'th:1', 'th:2', 'tx', 'tx:1', 'tx:2'].sort());
    for (const k of keys) assert.ok(await redis.pttl(`sk:{${s.id}}:${k}`) > 0, `${k} has the session's TTL`);

    await s.req('DELETE', '/v1/session');
    assert.deepEqual(await keysOf('sk', s.id), [], 'ended: nothing left');
    const other = await SessionClient.create(n.app);
    assert.equal((await other.req('POST', '/v1/session/holds', { resources: ['seat:R1:1', 'seat:R1:2'] })).status, 201, 'its holds released');

    const t = await SessionClient.create(n.app, { idleTimeout: 60 });
    await other.req('DELETE', '/v1/session/holds');
    await busy(t);
    clock.advance(61_000);
    await n.tessera.sweep();
    assert.deepEqual(await keysOf('sk', t.id), [], 'expired and swept: nothing left');
  } finally {
    await n.close();
  }
});

test('a scope opened through one node is seen, committed and swept through another', async () => {
  const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
  const [a, b] = [await node('sn', clock), await node('sn', clock)];
  try {
    const s = await SessionClient.create(a.app);
    await s.req('PUT', '/v1/session/records/results/a', { value: 'committed' });
    await s.req('POST', '/v1/session/transactions');
    await s.req('PUT', '/v1/session/records/results/a', { value: 'buffered' });
    const onB = new SessionClient(b.app);
    onB.id = s.id;
    onB.key = s.key;
    assert.equal((await onB.req('GET', '/v1/session')).body.transactionDepth, 1);
    assert.equal((await onB.req('GET', '/v1/session/records/results')).body.entries[0].value, 'buffered');
    const cursor = (await onB.req('POST', '/v1/session/cursors', { record: 'results' })).body.cursor;
    assert.deepEqual((await onB.req('POST', '/v1/session/transactions/commit')).body, { depth: 0 });
    s.key = onB.key;
    assert.equal((await s.req('GET', '/v1/session/records/results')).body.entries[0].value, 'buffered', 'node A sees the commit');
    assert.equal((await s.req('GET', `/v1/session/cursors/${cursor}`)).body.items[0].value, 'buffered', 'and pages the cursor B opened');

    await s.req('POST', '/v1/session/transactions');
    assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:N:1'] })).status, 201);
    clock.advance(301_000);
    await b.tessera.sweep();
    onB.key = s.key;
    assert.equal((await onB.req('GET', '/v1/session')).body.error.code, 'TRANSACTION_ABORTED', "B's sweep rolled back A's scope");
    assert.deepEqual((await onB.req('GET', '/v1/session/holds')).body.holds, [], 'and released its hold');
  } finally {
    await a.close();
    await b.close();
  }
});
