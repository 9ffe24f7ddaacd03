import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from '../../src/service/context.js';
import { makeHarness, send, SessionClient, TOKENS, type Harness } from '../helpers/harness.js';
import { openEvents, type SseClient } from '../helpers/sse.js';
import { PEOPLE } from './users.js';

async function listening(engine: string, config: Record<string, unknown> = {}): Promise<Harness & { url: string }> {
  const h = await makeHarness(engine, config);
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(h, { url });
}

const types = (events: { event: string }[]) => events.map((e) => e.event);

/** The event stream, GET /v1/admin/events (docs/operations.md). */
export function eventsSuite(engine: string): void {
  describe('event stream', () => {
    it('streams every event type as SSE, with ids, and never a key or a password', async () => {
      const h = await listening(engine, PEOPLE);
      let feed: SseClient | null = null;
      const keys: string[] = [];
      try {
        await h.tessera.users.seed();
        feed = await openEvents(h.url, TOKENS.ops);
        assert.equal(feed.status, 200);
        assert.match(feed.headers.get('content-type')!, /^text\/event-stream/);
        assert.equal(feed.headers.get('cache-control'), 'no-store');
        const { app, clock, tessera } = h;
        const s = await SessionClient.create(app);
        keys.push(s.key);
        assert.equal((await s.req('POST', '/v1/session/login', { username: 'alice', password: 'wrong-password-1' })).status, 401);
        assert.equal((await s.req('POST', '/v1/session/login', { username: 'alice', password: 'alice-password-1' })).status, 200);
        keys.push(s.key);
        assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:E1:A1'] })).status, 201);
        assert.equal((await s.req('POST', '/v1/session/holds/confirm', {})).status, 200);
        assert.equal((await s.req('POST', '/v1/session/holds', { resources: ['seat:E1:A2'] })).status, 201);
        assert.equal((await s.req('DELETE', '/v1/session/holds/seat:E1:A2')).status, 200);
        assert.equal((await s.req('POST', '/v1/session/logout')).status, 200);
        keys.push(s.key);
        const moved = await s.req('POST', '/v1/session/transfer');
        assert.equal(moved.status, 201);
        s.id = moved.body.id;
        s.key = moved.body.key;
        keys.push(s.key);
        const r = await SessionClient.create(app);
        const first = r.key;
        await r.req('GET', '/v1/session');
        await r.req('GET', '/v1/session');
        keys.push(first, r.key);
        assert.equal((await r.send('GET', '/v1/session', undefined, {}, first)).body.error.code, 'SESSION_KEY_REPLAYED');
        const idle = await SessionClient.create(app, { idleTimeout: 60 });
        assert.equal((await idle.req('POST', '/v1/session/holds', { resources: ['seat:E1:A3'], ttl: 30 })).status, 201);
        keys.push(idle.key);
        assert.equal((await s.req('DELETE', '/v1/session')).status, 200);
        clock.advance(61_000);
        await tessera.sweep();
        const events = await feed.until((es) => EVENT_TYPES.every((t) => types(es).includes(t)), 15_000, 'every type');
        for (const e of events) {
          assert.equal(e.data.type, e.event);
          assert.match(e.id!, /^\d+-\d+$/);
          assert.ok(!Number.isNaN(Date.parse(e.data.at)));
        }
        const ids = events.map((e) => e.id!);
        assert.equal(new Set(ids).size, ids.length, 'ids are unique');
        assert.deepEqual(events.filter((e) => e.event === 'hold.expired').map((e) => e.data.resource), ['seat:E1:A3']);
        assert.deepEqual(events.filter((e) => e.event === 'session.expired').map((e) => e.data.sessionId), [idle.id]);
        assert.equal(events.find((e) => e.event === 'user.login')!.data.user, 'alice');
        assert.equal(events.find((e) => e.event === 'user.login_failed')!.data.user, 'alice');
        for (const secret of [...keys, 'alice-password-1', 'wrong-password-1']) assert.ok(!feed.raw().includes(secret), 'no key or password');
      } finally {
        feed?.close();
        await h.close();
      }
    });

    it('filters by ?types=, refuses an unknown type, and is for admin clients only', async () => {
      const h = await listening(engine);
      const feed = await openEvents(h.url, TOKENS.ops, { types: 'session.ended,hold.acquired' });
      try {
        const s = await SessionClient.create(h.app);
        await s.req('POST', '/v1/session/holds', { resources: ['seat:F:1'] });
        await s.req('DELETE', '/v1/session');
        await feed.until((es) => es.length >= 2);
        assert.deepEqual(types(feed.events), ['hold.acquired', 'session.ended']);
        const bad = await send(h.app, 'GET', '/v1/admin/events?types=session.created,nope', { token: TOKENS.ops });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'INVALID_REQUEST');
        assert.equal((await send(h.app, 'GET', '/v1/admin/events', { token: TOKENS.web })).body.error.code, 'FORBIDDEN');
      } finally {
        feed.close();
        await h.close();
      }
    });

    it('resumes from Last-Event-ID with what was missed, each once, in order', async () => {
      const h = await listening(engine);
      try {
        const feed = await openEvents(h.url, TOKENS.ops);
        const before = await Promise.all([0, 1, 2].map(() => SessionClient.create(h.app)));
        await feed.until((es) => es.length === 3);
        const last = feed.events[2].id!;
        feed.close();
        const missed = [];
        for (let i = 0; i < 4; i++) missed.push(await SessionClient.create(h.app));
        const again = await openEvents(h.url, TOKENS.ops, { lastEventId: last });
        const later = await SessionClient.create(h.app);
        await again.until((es) => es.length === 5);
        assert.deepEqual(again.events.map((e) => e.data.sessionId), [...missed, later].map((s) => s.id));
        assert.ok(before.every((s) => !again.events.some((e) => e.data.sessionId === s.id)));
        again.close();
      } finally {
        await h.close();
      }
    });

    it('tells a client that resumes from past the backlog of the gap (event: gap), then sends what is kept', async () => {
      const h = await listening(engine, { events: { backlog: 100, subscriberBuffer: 4096 } }); // a replay is never cut by the buffer bound
      try {
        const feed = await openEvents(h.url, TOKENS.ops);
        await SessionClient.create(h.app);
        await feed.until((es) => es.length === 1);
        const first = feed.events[0].id!;
        feed.close();
        // More than the backlog (Redis trims whole stream nodes of 100 entries: 350 is sure to trim).
        for (let i = 0; i < 35; i++) await Promise.all(Array.from({ length: 10 }, () => SessionClient.create(h.app)));
        const again = await openEvents(h.url, TOKENS.ops, { lastEventId: first });
        await again.until((es) => es.length >= 101);
        assert.equal(again.events[0].event, 'gap');
        assert.equal(again.events[0].data.reason, 'backlog');
        assert.equal(again.events[0].id, undefined, 'a gap has no id');
        assert.ok(again.events.slice(1).every((e) => e.event === 'session.created'), 'what is kept, with nothing dropped');
        again.close();
        const junk = await openEvents(h.url, TOKENS.ops, { lastEventId: 'not-an-id' });
        await junk.until((es) => es.length >= 1);
        assert.equal(junk.events[0].event, 'gap');
        junk.close();
      } finally {
        await h.close();
      }
    });

    it('reports each expiry once, however many sweeps run at once', async () => {
      const h = await listening(engine, { session: { transactionTimeout: 30 } });
      const feed = await openEvents(h.url, TOKENS.ops, { types: 'session.expired,hold.expired,hold.released,session.ended' });
      try {
        const sessions = await Promise.all(Array.from({ length: 6 }, () => SessionClient.create(h.app, { idleTimeout: 600 })));
        for (const [i, s] of sessions.entries()) {
          if (i % 3 === 0) await s.req('PUT', '/v1/session/records/x', { value: i }); // expires (idle)
          if (i % 3 === 1) await s.req('POST', '/v1/session/holds', { resources: [`seat:X:${i}`], ttl: 10 }); // its hold expires
          if (i % 3 === 2) { // its transaction is rolled back, releasing the hold it took
            await s.req('POST', '/v1/session/transactions');
            await s.req('POST', '/v1/session/holds', { resources: [`seat:T:${i}`] });
          }
        }
        const idle = sessions.filter((_, i) => i % 3 === 0);
        h.clock.advance(31_000);
        for (const s of sessions.filter((_, i) => i % 3 !== 0)) await s.req('POST', '/v1/session/keepalive').catch(() => {});
        h.clock.advance(570_000);
        await Promise.all([h.tessera.sweep(), h.tessera.sweep(), h.tessera.sweep()]);
        h.clock.advance(31_000);
        await Promise.all([h.tessera.sweep(), h.tessera.sweep(), h.tessera.sweep()]);
        await SessionClient.create(h.app).then((s) => s.req('DELETE', '/v1/session')); // a marker: nothing else is coming
        await feed.until((es) => es.some((e) => e.event === 'session.ended'));
        const seen = feed.events.filter((e) => e.event !== 'session.ended').map((e) => `${e.event} ${e.data.resource ?? e.data.sessionId}`).sort();
        // Sessions 1, 2, 4, 5, kept alive at 31 s, expire at 631 s; their holds had gone already.
        const expected = [
          ...sessions.map((s) => `session.expired ${s.id}`),
          'hold.expired seat:X:1', 'hold.expired seat:X:4', 'hold.released seat:T:2', 'hold.released seat:T:5',
        ].sort();
        assert.deepEqual(seen, expected);
        assert.equal(idle.length, 2);
      } finally {
        feed.close();
        await h.close();
      }
    });
  });
}
