/**
 * The defaults as shipped. Every other test sets its own limits and timeouts;
 * these run with none (only the clients), so a changed default, or one that
 * is documented but not applied, shows here. Time-driven parts run twice: on
 * the store's manual clock (the long timeouts), and on real time with the
 * background sweeper running by itself and Redis deciding by its own clock.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it, mock } from 'node:test';
import { Redis } from 'ioredis';
import { hashKey } from '../src/core/keys.js';
import type { TesseraEvent } from '../src/service/context.js';
import { Tessera } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';
import { createRedisStore } from '../src/store/redis/index.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { CLIENTS, send, SessionClient, tempDir, TOKENS, using } from './helpers/harness.js';
import { sharedRedis, testPrefix } from './helpers/redis.js';

const ENGINES = ['memory', 'sqlite', 'redis'];
const MULTI = { records: { basket: { kind: 'multiple' } } }; // declared, with no limit of its own

for (const engine of ENGINES) {
  describe(`defaults as shipped, ${engine}`, () => {
    it('a new session: idle timeout 1800 s, lifespan 43200 s, per-request rotation, queued', () => using(engine, {}, async ({ app, clock }) => {
      const res = await send(app, 'POST', '/v1/sessions', { token: TOKENS.web });
      assert.equal(res.status, 201);
      assert.equal(res.body.idleTimeout, 1800);
      assert.equal(res.body.lifespan, 43200);
      assert.equal(res.body.rotation, 'per-request');
      assert.equal(res.body.queue, true);
      assert.equal(Date.parse(res.body.nextTimeout), clock() + 1800_000);
      assert.equal(Date.parse(res.body.expiresAt), clock() + 43200_000);
    }));

    it('a record value of 64 KiB is stored, one byte more is 413 RECORD_TOO_LARGE', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const fits = 'x'.repeat(65536 - 2); // its JSON text is exactly 65536 bytes
      assert.equal((await s.req('PUT', '/v1/session/records/big', { value: fits })).status, 200);
      const over = await s.req('PUT', '/v1/session/records/big', { value: `${fits}y` });
      assert.equal(over.status, 413);
      assert.equal(over.body.error.code, 'RECORD_TOO_LARGE');
      assert.equal((await s.req('GET', '/v1/session/records/big')).body.value, fits, 'the stored value is untouched');
    }));

    it('a body over 1 MiB is 413 PAYLOAD_TOO_LARGE', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const raw = JSON.stringify({ value: 'z'.repeat(1024 * 1024) });
      const res = await send(app, 'PUT', '/v1/session/records/huge', { raw, headers: { 'session-id': s.id, 'session-key': s.key } });
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'PAYLOAD_TOO_LARGE');
    }));

    it('a session holds 256 records; the 257th is 409 LIMIT_EXCEEDED', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (let i = 0; i < 256; i++) assert.equal((await s.req('PUT', `/v1/session/records/r${i}`, { value: i })).status, 200);
      const res = await s.req('PUT', '/v1/session/records/one-more', { value: 1 });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'LIMIT_EXCEEDED');
    }));

    it('a multiple record holds 1000 entries; the 1001st is 409 LIMIT_EXCEEDED', () => using(engine, MULTI, async ({ app }) => {
      const s = await SessionClient.create(app);
      for (let i = 0; i < 1000; i++) assert.equal((await s.req('PUT', `/v1/session/records/basket/k${i}`, { value: i })).status, 200);
      const res = await s.req('PUT', '/v1/session/records/basket/k1000', { value: 1 });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'LIMIT_EXCEEDED');
    }));

    it('a transaction idle for 300 s is rolled back: at 299 s it is open, past 300 s the next request gets TRANSACTION_ABORTED', () =>
      using(engine, {}, async ({ app, clock }) => {
        const s = await SessionClient.create(app);
        assert.equal((await s.req('POST', '/v1/session/transactions')).status, 200);
        assert.equal((await s.req('PUT', '/v1/session/records/a', { value: 1 })).status, 200);
        clock.advance(299_000);
        assert.equal((await s.req('GET', '/v1/session')).body.transactionDepth, 1);
        clock.advance(300_001);
        const res = await s.req('GET', '/v1/session');
        assert.equal(res.status, 409);
        assert.equal(res.body.error.code, 'TRANSACTION_ABORTED');
        assert.equal((await s.req('GET', '/v1/session/records/a')).status, 404, 'the buffered write is gone');
      }));

    it('a cursor unused for 1200 s is gone; used at 1199 s it pages on', () => using(engine, MULTI, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      for (let i = 0; i < 3; i++) await s.req('PUT', `/v1/session/records/basket/k${i}`, { value: i });
      const opened = await s.req('POST', '/v1/session/cursors', { record: 'basket', pageSize: 1 });
      assert.equal(opened.status, 201);
      clock.advance(1_199_000);
      assert.equal((await s.req('GET', `/v1/session/cursors/${opened.body.cursor}`)).body.position, 1);
      clock.advance(1_200_001);
      const gone = await s.req('GET', `/v1/session/cursors/${opened.body.cursor}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'CURSOR_NOT_FOUND');
    }));

    it('a hold lasts 900 s by default and at most 3600 s', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const held = await s.req('POST', '/v1/session/holds', { resources: ['seat:D:1'] });
      assert.equal(held.status, 201);
      assert.equal(Date.parse(held.body.holds[0].expiresAt), clock() + 900_000);
      const capped = await s.req('POST', '/v1/session/holds', { resources: ['seat:D:2'], ttl: 100_000 });
      assert.equal(capped.status, 201);
      assert.equal(Date.parse(capped.body.holds[0].expiresAt), clock() + 3600_000);
    }));

    it('a replaced key is served within 10 s of grace once its successor was presented, and is a replay after it', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const first = s.key;
      assert.equal((await s.req('GET', '/v1/session')).status, 200);
      // The successor presented without rotating (a failed login rotates nothing): the client provably has it.
      assert.equal((await s.send('POST', '/v1/session/login', { username: 'nobody', password: 'x' })).body.error.code, 'LOGIN_FAILED');
      clock.advance(9_900);
      assert.equal((await s.send('GET', '/v1/session', undefined, {}, first)).status, 200, 'within grace');
      clock.advance(200);
      const late = await s.send('GET', '/v1/session', undefined, {}, first);
      assert.equal(late.status, 401);
      assert.equal(late.body.error.code, 'SESSION_KEY_REPLAYED');
    }));
  });
}

describe('defaults as shipped: the request line', () => {
  it('a queued request waits 30 s for its turn, then QUEUE_TIMEOUT', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const tessera = new Tessera({ store: createMemoryStore(), config: { clients: CLIENTS } });
      const first = await tessera.queue.acquire('s1', true);
      let outcome: string | null = null;
      tessera.queue.acquire('s1', true).then(() => { outcome = 'granted'; }, (e) => { outcome = e.code; });
      mock.timers.tick(29_999);
      await new Promise((r) => setImmediate(r));
      assert.equal(outcome, null, 'still waiting at 29.999 s');
      mock.timers.tick(1);
      await new Promise((r) => setImmediate(r));
      assert.equal(outcome, 'QUEUE_TIMEOUT');
      await first();
      await tessera.close();
    } finally {
      mock.timers.reset();
    }
  });

  it('every default documented in docs/configuration.md is the one in force', () => {
    const t = new Tessera({ store: createMemoryStore() });
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    let checked = 0;
    // Rows like: | `session.idleTimeout` | `1800` | ...   and   | `holds.defaultTtl` / `holds.maxTtl` | `900` / `3600` | ...
    for (const m of doc.matchAll(/^\| (`[\w.]+`(?: \/ `[\w.]+`)*) \| (`[^|]*`(?: \/ `[^|]*`)*) \|/gm)) {
      const keys = [...m[1].matchAll(/`([\w.]+)`/g)].map((x) => x[1]);
      const values = [...m[2].matchAll(/`([^`]*)`/g)].map((x) => x[1]);
      keys.forEach((key, i) => {
        const actual = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], t.config);
        assert.deepEqual(actual, JSON.parse(/^\d+(\.\d+)?$|^true$|^false$|^[[{]/.test(values[i]) ? values[i] : JSON.stringify(values[i])), key);
        checked++;
      });
    }
    assert.ok(checked >= 20, `the defaults table was read (${checked} keys)`);
    void t.close();
  });
});

/** Real time: the sweeper started as `serve` starts it, nobody calling sweep(). */
describe('time as it runs in production', () => {
  const dir = tempDir();
  after(() => dir.remove());
  const stores: Record<string, () => Promise<Tessera['store']>> = {
    memory: async () => createMemoryStore(),
    sqlite: async () => createSqliteStore({ path: `${dir.path}/sweeper.db` }),
    // No clock given: the scripts read Redis's own TIME.
    redis: async () => createRedisStore({ nodes: [{ host: '127.0.0.1', port: (await sharedRedis()).port }], prefix: testPrefix() }),
  };
  for (const [engine, open] of Object.entries(stores)) {
    it(`${engine}: the background sweeper expires a session and a hold by itself, on the store's own clock`, async () => {
      const tessera = new Tessera({ store: await open(), config: { clients: CLIENTS } });
      const seen: TesseraEvent[] = [];
      tessera.events.on('event', (e) => seen.push(e));
      tessera.startSweeper();
      try {
        const client = { id: 'web', roles: ['app'] as const };
        const brief = await tessera.createSession(client, { idleTimeout: 1 });
        const buyer = await tessera.createSession(client, { idleTimeout: 600 });
        await tessera.withSession(client, buyer, (ctx) => tessera.holds.hold(ctx, { resources: ['seat:T:1'], ttl: 1 }));
        const deadline = Date.now() + 8_000;
        const has = (type: string, pred: (e: TesseraEvent) => boolean) => seen.some((e) => e.type === type && pred(e));
        while (Date.now() < deadline && !(has('session.expired', (e) => e.sessionId === brief.id) && has('hold.expired', (e) => e.resource === 'seat:T:1'))) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(has('session.expired', (e) => e.sessionId === brief.id), 'session.expired arrived without anyone calling sweep()');
        assert.ok(has('hold.expired', (e) => e.resource === 'seat:T:1'), 'hold.expired arrived without anyone calling sweep()');
        assert.equal(seen.filter((e) => e.type === 'session.expired' && e.sessionId === brief.id).length, 1, 'reported once');
        await assert.rejects(tessera.authenticate(client, brief.id, brief.key), { code: 'SESSION_INVALID' });
        assert.equal(await tessera.store.getSession(brief.id), null);
      } finally {
        await tessera.close();
      }
    });
  }
});

describe('keys at rest', () => {
  it('Redis holds only hashes of keys: no key the test was given appears in any value or key name', async () => {
    const server = await sharedRedis();
    const prefix = testPrefix();
    const tessera = new Tessera({ store: await createRedisStore({ nodes: [{ host: '127.0.0.1', port: server.port }], prefix }), config: { clients: CLIENTS } });
    const client = { id: 'web', roles: ['app'] as const };
    const issued: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = await tessera.createSession(client);
        issued.push(s.key);
        let creds = { id: s.id, key: s.key };
        for (let j = 0; j < 20; j++) {
          const r = await tessera.withSession(client, creds, async (ctx) => tessera.putRecord(ctx, 'n', null, { value: j }));
          creds = { id: r.id, key: r.key };
          issued.push(r.key);
        }
      }
    } finally {
      await tessera.close();
    }
    const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    await redis.connect();
    try {
      const parts: Buffer[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scanBuffer(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next.toString();
        for (const k of keys) {
          parts.push(k);
          const type = await redis.type(k);
          if (type === 'string') parts.push((await redis.getBuffer(k)) ?? Buffer.alloc(0));
          else if (type === 'hash') for (const [f, v] of Object.entries(await redis.hgetallBuffer(k))) parts.push(Buffer.from(f), v);
          else if (type === 'zset') parts.push(...(await redis.zrangeBuffer(k, 0, -1)));
          else if (type === 'set') parts.push(...(await redis.smembersBuffer(k)));
          else if (type === 'list') parts.push(...(await redis.lrangeBuffer(k, 0, -1)));
          else if (type === 'stream') parts.push(Buffer.from(JSON.stringify(await redis.xrange(k, '-', '+'))));
        }
      } while (cursor !== '0');
      assert.ok(parts.length > 0, 'the sessions are in Redis under the prefix');
      const all = Buffer.concat(parts);
      for (const key of issued) {
        assert.ok(!all.includes(Buffer.from(key)), 'no key in clear');
        assert.ok(!all.includes(Buffer.from(Buffer.from(key, 'base64url').toString('hex'))), 'nor its bytes in hex');
      }
      const current = issued[issued.length - 1];
      const h = hashKey(current);
      assert.ok(all.includes(h) || all.includes(Buffer.from(h.toString('hex'))) || all.includes(Buffer.from(h.toString('base64'))),
        'the hash of the current key is what is stored');
    } finally {
      redis.disconnect();
    }
  });
});
