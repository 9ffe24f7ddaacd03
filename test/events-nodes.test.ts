/**
 * The event stream across nodes: two `tessera serve` processes on one Redis,
 * and on a 3-master Redis Cluster. A subscriber on either node sees the
 * events of both; each expiry (session, hold, transaction) is reported once,
 * though both nodes sweep every second.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { startCluster, startRedis } from './helpers/redis.js';
import { http, startServe, stopServe, type Node } from './helpers/serve.js';
import { openEvents, type SseEvent } from './helpers/sse.js';

const app = 'events-nodes-app-token-0123456789';
const ops = 'events-nodes-ops-token-0123456789';
const dir = tempDir();
const config = join(dir.path, 'tessera.json');
writeFileSync(config, JSON.stringify({
  clients: [{ id: 'web', token: app, roles: ['app'] }, { id: 'ops', token: ops, roles: ['admin'] }],
  session: { sweepInterval: 1, transactionTimeout: 2 },
}));
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
  dir.remove();
});

const call = (node: Node, method: string, path: string, s?: { id: string; key: string }, body?: unknown) =>
  http(node.url, method, path, { token: app, body, headers: s ? { 'session-id': s.id, 'session-key': s.key } : {} });

async function create(node: Node, body: unknown = {}): Promise<{ id: string; key: string }> {
  const res = await call(node, 'POST', '/v1/sessions', undefined, body);
  assert.equal(res.status, 201);
  return res.body;
}

/** A session's request that follows its key. */
async function step(node: Node, s: { id: string; key: string }, method: string, path: string, body?: unknown) {
  const res = await call(node, method, path, s, body);
  if (res.headers.get('session-key')) s.key = res.headers.get('session-key')!;
  return res;
}

const label = (e: SseEvent) => `${e.event} ${e.data.resource ?? e.data.sessionId}`;

function suite(name: string, store: () => Promise<string>): void {
  describe(name, () => {
    let nodes: Node[] = [];

    it('starts two nodes', async () => {
      const url = await store();
      nodes = await Promise.all([0, 1].map(() => startServe(['--config', config, '--port', '0', '--store', url], dir.path)));
      stops.push(() => Promise.all(nodes.map(stopServe)));
    });

    it('a subscriber on either node sees the events of both, with the same ids', async () => {
      const feeds = await Promise.all(nodes.map((n) => openEvents(n.url, ops, { types: 'session.created,hold.acquired,session.ended' })));
      try {
        const a = await create(nodes[0]);
        const b = await create(nodes[1]);
        assert.equal((await step(nodes[1], a, 'POST', '/v1/session/holds', { resources: ['seat:N:1'] })).status, 201);
        assert.equal((await step(nodes[0], b, 'DELETE', '/v1/session')).status, 200);
        const want = [`session.created ${a.id}`, `session.created ${b.id}`, 'hold.acquired seat:N:1', `session.ended ${b.id}`];
        for (const f of feeds) await f.until((es) => want.every((w) => es.map(label).includes(w)), 15_000, want.join(', '));
        const ids = (f: typeof feeds[0]) => f.events.filter((e) => want.includes(label(e))).map((e) => `${e.id} ${label(e)}`);
        assert.deepEqual(ids(feeds[0]), ids(feeds[1]), 'one order, one id per event, on both nodes');
      } finally {
        feeds.forEach((f) => f.close());
      }
    });

    it('reports each expiry once though both nodes sweep', async () => {
      const types = 'session.expired,hold.expired,hold.released';
      const feeds = await Promise.all(nodes.map((n) => openEvents(n.url, ops, { types })));
      try {
        const idle = await Promise.all(Array.from({ length: 8 }, (_, i) => create(nodes[i % 2], { idleTimeout: 1 })));
        const holders = await Promise.all(Array.from({ length: 6 }, (_, i) => create(nodes[i % 2], { idleTimeout: 600 })));
        for (const [i, s] of holders.entries()) {
          const n = nodes[i % 2];
          if (i < 3) {
            assert.equal((await step(n, s, 'POST', '/v1/session/holds', { resources: [`seat:H:${i}`], ttl: 1 })).status, 201);
          } else { // a transaction left idle: the sweep rolls it back and releases the hold it took
            assert.equal((await step(n, s, 'POST', '/v1/session/transactions')).status, 200);
            assert.equal((await step(n, s, 'POST', '/v1/session/holds', { resources: [`seat:T:${i}`] })).status, 201);
          }
        }
        const want = [
          ...idle.map((s) => `session.expired ${s.id}`),
          'hold.expired seat:H:0', 'hold.expired seat:H:1', 'hold.expired seat:H:2',
          'hold.released seat:T:3', 'hold.released seat:T:4', 'hold.released seat:T:5',
        ].sort();
        for (const f of feeds) await f.until((es) => want.every((w) => es.map(label).includes(w)), 20_000, 'every expiry');
        await new Promise((r) => setTimeout(r, 3000)); // three more sweeps on each node: nothing may come twice
        for (const f of feeds) assert.deepEqual(f.events.map(label).sort(), want);
        process.stdout.write(`# ${name}: ${want.length} expiries, each once on each of 2 nodes\n`);
      } finally {
        feeds.forEach((f) => f.close());
      }
    });
  });
}

suite('two nodes on one Redis', async () => {
  const redis = await startRedis();
  stops.push(() => redis.stop());
  return `redis://127.0.0.1:${redis.port}`;
});

suite('two nodes on a 3-master Redis Cluster', async () => {
  const cluster = await startCluster(3);
  stops.push(() => cluster.stop());
  return `redis-cluster://${cluster.seeds}`;
});
