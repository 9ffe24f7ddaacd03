import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { makeHarness, send, SessionClient, TOKENS, using } from '../helpers/harness.js';
import { openEvents } from '../helpers/sse.js';
import { PEOPLE } from './users.js';

const admin = (app: Parameters<typeof send>[0], method: string, url: string, body?: unknown) => send(app, method, url, { token: TOKENS.ops, body });

/** `name{labels} value` lines of a Prometheus text, checked line by line; the value of a series. */
function parseProm(text: string): Map<string, number> {
  const series = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]), line);
        types.set(m[2], m[3]);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  for (const name of types.keys()) if (name.startsWith('tessera_') && types.get(name) === 'counter') assert.match(name, /_total$/);
  return series;
}

const sum = (series: Map<string, number>, prefix: string, filter = '') =>
  [...series].filter(([k]) => k.startsWith(prefix) && k.includes(filter)).reduce((n, [, v]) => n + v, 0);

/** Pools and claims read by admins, and the Prometheus metrics (docs/operations.md). */
export function operationsSuite(engine: string): void {
  describe('pools, claims and metrics', () => {
    it('reads pools (capacity, held, claimed, free) and claims by prefix', () => using(engine, {}, async ({ app }) => {
      assert.equal((await admin(app, 'PUT', '/v1/admin/pools/ga:E9', { capacity: 10 })).status, 200);
      assert.equal((await admin(app, 'PUT', '/v1/admin/pools/ga:E8', { capacity: 5 })).status, 200);
      const a = await SessionClient.create(app);
      const b = await SessionClient.create(app);
      assert.equal((await a.req('POST', '/v1/session/holds', { pool: 'ga:E9', quantity: 3 })).status, 201);
      assert.equal((await a.req('POST', '/v1/session/holds/confirm', {})).status, 200);
      assert.equal((await b.req('POST', '/v1/session/holds', { pool: 'ga:E9', quantity: 2 })).status, 201);
      assert.equal((await b.req('POST', '/v1/session/holds', { resources: ['seat:E9:A1', 'seat:E9:A2'] })).status, 201);
      assert.equal((await b.req('POST', '/v1/session/holds/confirm', { resources: ['seat:E9:A2'] })).status, 200);

      const pools = await admin(app, 'GET', '/v1/admin/pools');
      assert.equal(pools.status, 200);
      assert.deepEqual(pools.body, { pools: [
        { name: 'ga:E8', capacity: 5, held: 0, claimed: 0, free: 5 },
        { name: 'ga:E9', capacity: 10, held: 2, claimed: 3, free: 5 },
      ] });
      assert.deepEqual((await admin(app, 'GET', '/v1/admin/pools/ga:E9')).body, { name: 'ga:E9', capacity: 10, held: 2, claimed: 3, free: 5 });
      const none = await admin(app, 'GET', '/v1/admin/pools/ga:none');
      assert.equal(none.status, 404);
      assert.equal(none.body.error.code, 'POOL_NOT_FOUND');
      assert.equal((await admin(app, 'GET', '/v1/admin/pools/seat:E9:A1')).body.error.code, 'POOL_NOT_FOUND', 'a resource is not a pool');

      const claims = await admin(app, 'GET', '/v1/admin/claims');
      assert.equal(claims.status, 200);
      assert.deepEqual(claims.body.claims.map((c: { pool?: string; resource?: string; quantity?: number; sessionId: string }) =>
        [c.pool ?? c.resource, c.quantity ?? null, c.sessionId]), [['ga:E9', 3, a.id], ['seat:E9:A2', null, b.id]]);
      for (const c of claims.body.claims) assert.ok(Number.isInteger(c.token) && !Number.isNaN(Date.parse(c.confirmedAt)));
      assert.deepEqual((await admin(app, 'GET', '/v1/admin/claims?prefix=seat:')).body.claims.map((c: { resource: string }) => c.resource), ['seat:E9:A2']);
      assert.equal((await admin(app, 'GET', '/v1/admin/claims?prefix=seat:&limit=0')).status, 400);
      assert.equal((await send(app, 'GET', '/v1/admin/pools', { token: TOKENS.web })).body.error.code, 'FORBIDDEN');
      assert.equal((await send(app, 'GET', '/v1/admin/claims', { token: TOKENS.web })).body.error.code, 'FORBIDDEN');

      assert.equal((await admin(app, 'DELETE', '/v1/admin/claims/ga:E9')).status, 200);
      assert.deepEqual((await admin(app, 'GET', '/v1/admin/pools/ga:E9')).body, { name: 'ga:E9', capacity: 10, held: 2, claimed: 0, free: 8 });
    }));

    it('serves Prometheus text to admins whose figures move with the load, and no key or password in it', () => using(engine, PEOPLE, async ({ app, tessera }) => {
      await tessera.users.seed();
      assert.equal((await send(app, 'GET', '/metrics', { token: TOKENS.web })).status, 403);
      const first = await admin(app, 'GET', '/metrics');
      assert.equal(first.status, 200);
      assert.match(String(first.headers['content-type']), /^text\/plain/);
      const before = parseProm(first.body);

      await admin(app, 'PUT', '/v1/admin/pools/ga:M', { capacity: 4 });
      const keys: string[] = [];
      const sessions: SessionClient[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await SessionClient.create(app);
        keys.push(s.key);
        await s.req('PUT', '/v1/session/records/cart', { value: i });
        keys.push(s.key);
        sessions.push(s);
      }
      await sessions[0].req('POST', '/v1/session/holds', { pool: 'ga:M', quantity: 3 });
      const replayed = sessions[1];
      const old = replayed.key;
      await replayed.req('GET', '/v1/session');
      await replayed.req('GET', '/v1/session');
      await replayed.send('GET', '/v1/session', undefined, {}, old);
      for (let i = 0; i < 6; i++) await sessions[2].req('POST', '/v1/session/login', { username: 'alice', password: `wrong-password-${i}` });
      keys.push(...sessions.map((s) => s.key));

      const text = (await admin(app, 'GET', '/metrics')).body as string;
      const after = parseProm(text);
      for (const secret of [...keys, 'alice-password-1', ...Array.from({ length: 6 }, (_, i) => `wrong-password-${i}`)]) {
        assert.ok(!text.includes(secret), 'no key or password in the metrics');
      }
      const route = 'route="/v1/session/records/:name"';
      assert.equal(sum(after, 'tessera_http_requests_total{', route) - sum(before, 'tessera_http_requests_total{', route), 5);
      assert.equal(sum(after, 'tessera_http_request_duration_seconds_count{', route), 5);
      assert.ok(sum(after, 'tessera_store_step_duration_seconds_count{', `engine="${tessera.store.kind}"`) > sum(before, 'tessera_store_step_duration_seconds_count{'));
      assert.ok(after.has(`tessera_store_step_duration_seconds_count{step="createSession",engine="${tessera.store.kind}"}`));
      assert.equal(after.get('tessera_sessions')! - (before.get('tessera_sessions') ?? 0), 4, 'five created, one revoked');
      assert.equal(after.get('tessera_holds'), 1);
      assert.equal(after.get('tessera_pool_capacity{pool="ga:M"}'), 4);
      assert.equal(after.get('tessera_pool_held{pool="ga:M"}'), 3);
      assert.equal(after.get('tessera_pool_free{pool="ga:M"}'), 1);
      assert.equal(after.get('tessera_key_replays_total'), 1);
      assert.equal(after.get('tessera_login_failures_total'), 5);
      assert.equal(after.get('tessera_login_throttled_total'), 1);
      assert.equal(after.get('tessera_events_total{type="session.created"}'), 5);
      assert.equal(after.get('tessera_events_dropped_total'), 0);
      assert.ok(after.has('process_cpu_seconds_total'), 'the process metrics');
      assert.ok(![...after.keys()].some((k) => sessions.some((s) => k.includes(s.id))), 'no session id in a label');
      if (engine === 'sqlite') assert.ok(after.has('tessera_sqlite_wal_bytes'));
      if (engine.startsWith('redis')) assert.ok(after.has('tessera_redis_reconnects_total'));
    }));

    it('writes no key or password into a log line, with the event stream and the metrics in use', async () => {
      let log = '';
      const sink = new Writable({ write(chunk, _enc, done) { log += chunk.toString(); done(); } });
      const h = await makeHarness(engine, PEOPLE, sink);
      try {
        await h.tessera.users.seed();
        const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
        const feed = await openEvents(url, TOKENS.ops);
        const s = await SessionClient.create(h.app);
        const keys = [s.key];
        await s.req('POST', '/v1/session/login', { username: 'alice', password: 'not-alice-password' }); keys.push(s.key);
        await s.req('POST', '/v1/session/login', { username: 'alice', password: 'alice-password-1' }); keys.push(s.key);
        await s.req('POST', '/v1/session/holds', { resources: ['seat:L:1'] }); keys.push(s.key);
        await s.send('GET', '/v1/session', undefined, {}, keys[0]); // a replay
        await send(h.app, 'GET', '/metrics', { token: TOKENS.ops });
        await feed.until((es) => es.some((e) => e.event === 'security.key_replayed'));
        feed.close();
        assert.ok(log.length > 0, 'something was logged');
        for (const secret of [...keys, 'not-alice-password', 'alice-password-1']) {
          assert.ok(!log.includes(secret), 'no key or password in the log');
          assert.ok(!feed.raw().includes(secret), 'none in an event');
        }
      } finally {
        await h.close();
      }
    });
  });
}
