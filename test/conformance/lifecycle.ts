import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, using } from '../helpers/harness.js';

const ms = (iso: string) => Date.parse(iso);

/** Section 3: lifecycle. */
export function lifecycleSuite(engine: string): void {
  describe('lifecycle (section 3)', () => {
    it('applies the defaults and computes nextTimeout and expiresAt', () => using(engine, {}, async ({ app, clock }) => {
      const res = await send(app, 'POST', '/v1/sessions');
      assert.equal(res.status, 201);
      const b = res.body;
      assert.deepEqual(Object.keys(b).sort(), ['expiresAt', 'id', 'idleTimeout', 'key', 'lifespan', 'nextTimeout', 'queue', 'rotation']);
      assert.equal(b.idleTimeout, 1800);
      assert.equal(b.lifespan, 43200);
      assert.equal(b.rotation, 'per-request');
      assert.equal(b.queue, true);
      assert.equal(ms(b.nextTimeout), clock() + 1800_000);
      assert.equal(ms(b.expiresAt), clock() + 43200_000);
      assert.match(b.nextTimeout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }));

    it('takes the options given and caps them at the configured maxima', () => using(engine, { session: { maxIdleTimeout: 600, maxLifespan: 3600 } }, async ({ app, clock }) => {
      const a = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: 60, lifespan: 120, rotation: 'on-privilege-change', queue: false } });
      assert.equal(a.status, 201);
      assert.equal(a.body.idleTimeout, 60);
      assert.equal(a.body.lifespan, 120);
      assert.equal(a.body.rotation, 'on-privilege-change');
      assert.equal(a.body.queue, false);
      assert.equal(ms(a.body.nextTimeout), clock() + 60_000);
      const capped = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: 100_000, lifespan: 100_000 } });
      assert.equal(capped.body.idleTimeout, 600);
      assert.equal(capped.body.lifespan, 3600);
    }));

    it('the next timeout is the lifespan end when that comes first', () => using(engine, {}, async ({ app, clock }) => {
      const res = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: 600, lifespan: 300 } });
      assert.equal(ms(res.body.nextTimeout), clock() + 300_000);
    }));

    it('refuses durations that are not positive whole seconds, and other bad options', () => using(engine, {}, async ({ app }) => {
      const bad = [{ idleTimeout: 0 }, { idleTimeout: -5 }, { lifespan: 1.5 }, { idleTimeout: '60' }, { lifespan: null },
        { rotation: 'sometimes' }, { queue: 'yes' }, { colour: 'red' }, [], 'text', 42];
      for (const body of bad) {
        const res = await send(app, 'POST', '/v1/sessions', { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'INVALID_REQUEST');
      }
    }));

    it('reads the session', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      const created = clock();
      clock.advance(1000);
      const res = await s.req('GET', '/v1/session');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        id: s.id, user: null, createdAt: new Date(created).toISOString(), lastAccessAt: new Date(clock()).toISOString(),
        nextTimeout: new Date(clock() + 1800_000).toISOString(), expiresAt: new Date(created + 43200_000).toISOString(),
        rotation: 'per-request', transactionDepth: 0,
      });
    }));

    it('keeps alive: answers the next timeout and moves it', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app, { idleTimeout: 60 });
      clock.advance(50_000);
      const res = await s.req('POST', '/v1/session/keepalive');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { message: 'success', nextTimeout: new Date(clock() + 60_000).toISOString() });
      assert.equal(res.headers['session-expires'], res.body.nextTimeout);
      clock.advance(50_000);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'alive 100 s after creation thanks to the keep-alive');
    }));

    it('expires an idle session: SESSION_INVALID past nextTimeout, before and after the sweep', () => using(engine, {}, async ({ app, clock, tessera }) => {
      const expired: string[] = [];
      tessera.events.on('event', (e) => { if (e.type === 'session.expired') expired.push(e.sessionId); });
      const s = await SessionClient.create(app, { idleTimeout: 60 });
      const keep = await SessionClient.create(app, { idleTimeout: 600 });
      clock.advance(60_000);
      const res = await s.req('GET', '/v1/session');
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'SESSION_INVALID');
      assert.equal(await tessera.sweep(), 1);
      assert.deepEqual(expired, [s.id]);
      assert.equal((await s.req('GET', '/v1/session')).status, 401);
      assert.equal((await keep.req('GET', '/v1/session')).status, 200, 'the sweep took only what expired');
    }));

    it('ends a session at its lifespan however active it is', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app, { idleTimeout: 60, lifespan: 150 });
      for (let t = 0; t < 3; t++) {
        clock.advance(45_000);
        const res = await s.req('POST', '/v1/session/keepalive');
        assert.equal(res.status, 200);
        if (t === 2) assert.equal(res.body.nextTimeout, new Date(clock() + 15_000).toISOString(), 'capped by the lifespan');
      }
      clock.advance(15_000);
      assert.equal((await s.req('GET', '/v1/session')).status, 401);
    }));

    it('ends a session on DELETE', () => using(engine, {}, async ({ app, tessera }) => {
      const events: string[] = [];
      tessera.events.on('event', (e) => events.push(e.type));
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/cart', { value: [1, 2] });
      const res = await s.req('DELETE', '/v1/session');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { message: 'success' });
      // The session no longer exists: no key to send next, no id, no timeout.
      for (const h of ['session-key', 'session-id', 'session-expires']) assert.equal(res.headers[h], undefined, h);
      assert.equal((await s.req('GET', '/v1/session')).status, 401);
      assert.deepEqual(await tessera.store.getRecord(s.id, 'cart').catch((e) => e.code), 'SESSION_INVALID');
      assert.deepEqual(events, ['session.created', 'session.ended']);
    }));

    it('restarts the expiry clock of records on keep-alive with touchRecords', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app);
      await s.req('PUT', '/v1/session/records/search', { value: 'q', ttl: 60 });
      await s.req('PUT', '/v1/session/records/forever', { value: 1 });
      clock.advance(50_000);
      assert.equal((await s.req('POST', '/v1/session/keepalive', {})).status, 200);
      assert.equal((await s.req('POST', '/v1/session/keepalive', { touchRecords: false })).status, 200);
      const touched = await s.req('POST', '/v1/session/keepalive', { touchRecords: true });
      assert.equal(touched.status, 200);
      clock.advance(50_000);
      const r = await s.req('GET', '/v1/session/records/search');
      assert.equal(r.status, 200, 'alive 100 s after its write thanks to the touch');
      assert.equal(r.body.expiresAt, new Date(clock() - 50_000 + 60_000).toISOString());
      assert.equal((await s.req('GET', '/v1/session/records/forever')).body.expiresAt, null);
      clock.advance(11_000);
      assert.equal((await s.req('GET', '/v1/session/records/search')).status, 404);
      assert.equal((await s.req('POST', '/v1/session/keepalive', { touchRecords: 'yes' })).status, 400);
    }));

    it('sweeps only what expired, in batches no larger than asked, and nothing twice', () => using(engine, {}, async ({ app, clock, tessera, store }) => {
      for (let i = 0; i < 30; i++) await SessionClient.create(app, { idleTimeout: 3600 });
      const short = [];
      for (let i = 0; i < 5; i++) short.push(await SessionClient.create(app, { idleTimeout: 60 }));
      clock.advance(61_000);
      const swept = await store.sweepExpired(2);
      assert.equal(swept.length, 2, 'the batch limit is honoured');
      assert.equal(await tessera.sweep(), 3);
      assert.equal(await tessera.sweep(), 0);
      for (const s of short) assert.equal(await store.getSession(s.id), null);
    }));
  });
}
