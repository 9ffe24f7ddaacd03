import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionClient, using } from '../helpers/harness.js';

const WEB = { id: 'web', roles: ['app'] as const };

/** Section 4: serialized requests. */
export function queueSuite(engine: string): void {
  describe('serialized requests (section 4)', () => {
    it('runs concurrent requests of one session one at a time in arrival order, losing no write', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const n = 40;
      const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
        s.send('PUT', '/v1/session/records/counter', { value: i })));
      assert.deepEqual(answers.map((a) => a.status), Array(n).fill(200));
      assert.deepEqual(answers.map((a) => a.body.version), Array.from({ length: n }, (_, i) => i + 1), 'FIFO order');
      const final = await s.req('GET', '/v1/session/records/counter');
      assert.equal(final.body.version, n);
      assert.equal(final.body.value, n - 1);
    }));

    it('makes a queued request wait for the one in progress', () => using(engine, {}, async ({ app, tessera }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const release = (await tessera.takeTurn(WEB, s.id))!; // a request in progress
      let done = false;
      const waiting = s.send('GET', '/v1/session').then((r) => { done = true; return r; });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(done, false, 'still waiting');
      release();
      assert.equal((await waiting).status, 200);
    }));

    it('answers SESSION_BUSY to a session created with queue:false', () => using(engine, {}, async ({ app, tessera }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change', queue: false });
      const release = (await tessera.takeTurn(WEB, s.id))!;
      const busy = await s.send('GET', '/v1/session');
      assert.equal(busy.status, 409);
      assert.equal(busy.body.error.code, 'SESSION_BUSY');
      release();
      assert.equal((await s.send('GET', '/v1/session')).status, 200);
    }));

    it('answers SESSION_BUSY for queue:false also when this process has not seen the session yet', () => using(engine, {}, async (h) => {
      const s = await SessionClient.create(h.app, { rotation: 'on-privilege-change', queue: false });
      // A second service over the same store, as after a restart: no cached queue flags.
      const { Tessera } = await import('../../src/service/tessera.js');
      const { buildServer } = await import('../../src/http/server.js');
      const fresh = new Tessera({ config: { clients: (h.tessera.config.clients as unknown[]) }, store: h.store });
      const app2 = buildServer(fresh);
      const release = (await fresh.takeTurn(WEB, s.id))!;
      const busy = await new SessionClient(app2).send('GET', '/v1/session', undefined, { 'session-id': s.id, 'session-key': s.key });
      assert.equal(busy.body.error.code, 'SESSION_BUSY');
      release();
      await app2.close();
    }));

    it('gives up with QUEUE_TIMEOUT after the queue timeout', () => using(engine, { session: { queueTimeout: 1 } }, async ({ app, tessera }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const release = (await tessera.takeTurn(WEB, s.id))!;
      const started = Date.now();
      const res = await s.send('GET', '/v1/session');
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'QUEUE_TIMEOUT');
      assert.ok(Date.now() - started >= 900);
      release();
      assert.equal((await s.send('GET', '/v1/session')).status, 200, 'the line moves on');
    }));

    it('serializes in-process use through withSession the same way', () => using(engine, {}, async ({ tessera }) => {
      const client = { id: 'web', roles: ['app'] as const };
      const created = await tessera.createSession(client, { rotation: 'on-privilege-change' });
      const creds = { id: created.id, key: created.key };
      await Promise.all(Array.from({ length: 20 }, () => tessera.withSession(client, creds, async (ctx) => {
        let current = 0;
        try { current = (await tessera.getRecord(ctx, 'n') as { value: number }).value; } catch { /* absent */ }
        await new Promise((r) => setImmediate(r));
        await tessera.putRecord(ctx, 'n', null, { value: current + 1 });
      })));
      const { result } = await tessera.withSession(client, creds, (ctx) => tessera.getRecord(ctx, 'n'));
      assert.equal((result as { value: number }).value, 20, 'read-modify-write in turns loses nothing');
    }));
  });
}
