/**
 * Faults: Redis killed under load answers 503 STORE_UNAVAILABLE (never a
 * crash, never a hang past the request timeout) and /readyz fails; when
 * Redis is back, the server serves again by itself. The same for a Cluster
 * master that fails over to its replica.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { redisCommand, startCluster, startRedis } from './helpers/redis.js';
import { http, startServe, stopServe, type Node } from './helpers/serve.js';

const token = 'faults-test-token-0123456789';
const dir = tempDir();
after(() => dir.remove());
const config = join(dir.path, 'tessera.json');
// Rate limits off: the load comes from one address on purpose.
writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }], rateLimit: { enabled: false } }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps `concurrency` loops of create + write going until stopped; tallies statuses and the slowest answer. */
function load(node: Node, concurrency = 8) {
  const tally = new Map<number, number>();
  let slowest = 0;
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const created = await http(node.url, 'POST', '/v1/sessions', { token, body: { rotation: 'on-privilege-change' } });
      const answers = [created];
      if (created.status === 201) {
        answers.push(await http(node.url, 'PUT', '/v1/session/records/r', { token, body: { value: 1 },
          headers: { 'session-id': created.body.id, 'session-key': created.body.key } }));
      }
      for (const a of answers) {
        tally.set(a.status, (tally.get(a.status) ?? 0) + 1);
        slowest = Math.max(slowest, a.ms);
        if (a.status !== 201 && a.status !== 200) assert.equal(a.body?.error?.code, 'STORE_UNAVAILABLE', JSON.stringify(a.body));
      }
      if (created.status !== 201) await sleep(20);
    }
  });
  return {
    tally, slowest: () => slowest,
    async stop() { running = false; await Promise.all(loops); },
    reset() { tally.clear(); slowest = 0; },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(100);
  }
  throw new Error('timed out');
}

const fmt = (t: Map<number, number>) => [...t.entries()].sort().map(([s, n]) => `${n}x${s}`).join(' ');

describe('faults', () => {
  it('Redis killed under load: 503s, /readyz fails, no crash; Redis back: serves again by itself', async () => {
    const redis = await startRedis();
    const node = await startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`], dir.path);
    try {
      const traffic = load(node);
      await sleep(1000);
      const before = new Map(traffic.tally);
      assert.ok((before.get(201) ?? 0) > 10, `served before the fault: ${fmt(before)}`);
      traffic.reset();
      await redis.kill();
      await sleep(3000);
      const ready = await http(node.url, 'GET', '/readyz', { token });
      assert.equal(ready.status, 503);
      assert.equal(ready.body.error.code, 'STORE_UNAVAILABLE');
      const during = new Map(traffic.tally);
      const slowest = traffic.slowest();
      assert.ok((during.get(503) ?? 0) > 0, `503s while Redis is down: ${fmt(during)}`);
      assert.equal(during.get(500) ?? 0, 0);
      assert.equal(during.get(0) ?? 0, 0, 'no connection dropped');
      assert.ok(slowest < 5000, `no answer waits past the command timeout (slowest ${slowest.toFixed(0)} ms)`);
      assert.equal(node.exited(), false, 'the server is still up');
      traffic.reset();
      await redis.restart();
      const recovered = await until(async () => (await http(node.url, 'GET', '/readyz', { token })).status === 200, 15_000);
      await sleep(2500); // requests already in flight during the outage finish
      traffic.reset();
      await sleep(1000);
      await traffic.stop();
      const afterwards = new Map(traffic.tally);
      assert.ok((afterwards.get(201) ?? 0) > 0, `served again: ${fmt(afterwards)}`);
      assert.equal(afterwards.get(503) ?? 0, 0, `nothing refused once back: ${fmt(afterwards)}`);
      const fresh = await http(node.url, 'POST', '/v1/sessions', { token, body: {} });
      assert.equal(fresh.status, 201);
      process.stdout.write(`# Redis fault: 1 s before: ${fmt(before)}; 3 s down: ${fmt(during)}, slowest answer ${slowest.toFixed(0)} ms, `
        + `/readyz 503; restarted: ready after ${recovered} ms; 1 s later: ${fmt(afterwards)}; process alive\n`);
    } finally {
      await stopServe(node);
      await redis.stop();
    }
  });

  it('a Cluster master killed under load fails over to its replica; the server serves again by itself', async () => {
    const cluster = await startCluster(3, 1);
    const node = await startServe(['--config', config, '--port', '0', '--store', `redis-cluster://${cluster.seeds}`], dir.path);
    try {
      const traffic = load(node);
      await sleep(1000);
      const roles = await Promise.all(cluster.nodes.map((n) => redisCommand(n.port, 'ROLE')));
      const master = cluster.nodes.find((_, i) => roles[i] === '*3')!; // ROLE of a master is a 3-element array
      traffic.reset();
      await master.kill();
      const killedAt = Date.now();
      // cluster-node-timeout is 2 s: a replica takes over a few seconds later. Serving again: the first
      // session created and /readyz green (every master this node knows answers, cluster_state:ok).
      const failedOver = await until(async () => {
        const r = await http(node.url, 'POST', '/v1/sessions', { token, body: {} });
        return r.status === 201 && (await http(node.url, 'GET', '/readyz', { token })).status === 200;
      }, 30_000);
      // Settled: every surviving node has marked the dead master failed and sees 3 live masters, so no
      // slots refresh can bring back the old map; then 20 sessions in a row (slots on every master) succeed.
      const survivors = cluster.nodes.filter((n) => n !== master);
      await until(async () => {
        const views = await Promise.all(survivors.map((n) => redisCommand(n.port, 'CLUSTER NODES')));
        const flags = (v: string) => v.trim().split('\n').map((l) => ({ addr: l.split(' ')[1] ?? '', flags: (l.split(' ')[2] ?? '').split(',') }));
        return views.every((v) => v !== null
          && flags(v).some((n) => n.addr.startsWith(`127.0.0.1:${master.port}@`) && n.flags.includes('fail'))
          && flags(v).filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && !n.flags.includes('fail?')).length === 3);
      }, 30_000);
      await until(async () => {
        for (let i = 0; i < 20; i++) {
          if ((await http(node.url, 'POST', '/v1/sessions', { token, body: {} })).status !== 201) return false;
        }
        return true;
      }, 30_000);
      const settled = Date.now() - killedAt;
      await sleep(2500); // requests already in flight during the failover finish
      traffic.reset();
      await sleep(1000);
      await traffic.stop();
      const afterwards = new Map(traffic.tally);
      assert.ok((afterwards.get(201) ?? 0) > 0, `served after the failover: ${fmt(afterwards)}`);
      assert.equal(afterwards.get(503) ?? 0, 0, `nothing refused once failed over: ${fmt(afterwards)}`);
      assert.equal(node.exited(), false);
      process.stdout.write(`# Cluster failover: first answer ${failedOver} ms after a master was killed, failed over and settled after ${settled} ms; then ${fmt(afterwards)}\n`);
    } finally {
      await stopServe(node);
      await cluster.stop();
    }
  });
});
