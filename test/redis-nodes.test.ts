/**
 * Several `tessera serve` processes on one Redis behave as one server:
 * requests of a session are serialized over every node, a replayed key is
 * caught whichever node sees it, holds race fairly across nodes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tessera } from '../src/service/tessera.js';
import { createRedisStore } from '../src/store/redis/index.js';
import { tempDir } from './helpers/harness.js';
import { startRedis, type RedisNode } from './helpers/redis.js';
import { runCli, startServe as startProcess } from './helpers/process.js';
import { http, startServe, stopServe, type Node } from './helpers/serve.js';

const token = 'nodes-test-token-0123456789';
const dir = tempDir();
let redis: RedisNode;
let nodes: Node[] = [];

before(async () => {
  redis = await startRedis();
  const config = join(dir.path, 'tessera.json');
  writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }], records: { log: { kind: 'multiple' } } }));
  nodes = await Promise.all([0, 1, 2].map(() => startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`], dir.path)));
});

after(async () => {
  await Promise.all(nodes.map(stopServe));
  await redis?.stop();
  dir.remove();
});

const create = async (node: Node, body: unknown = {}) => {
  const res = await http(node.url, 'POST', '/v1/sessions', { token, body });
  assert.equal(res.status, 201);
  return res.body as { id: string; key: string };
};

describe('three nodes on one Redis', () => {
  it('200 concurrent writes to one session, spread over the nodes, lose nothing', async () => {
    const s = await create(nodes[0], { rotation: 'on-privilege-change' });
    const headers = { 'session-id': s.id, 'session-key': s.key };
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      http(nodes[i % 3].url, 'PUT', '/v1/session/records/counter', { token, headers, body: { value: i } })));
    const ms = performance.now() - started;
    assert.deepEqual(answers.map((a) => a.status), Array(200).fill(200));
    assert.deepEqual(answers.map((a) => a.body.version).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1),
      'every write got its own version: none was lost or overlapped');
    const final = await http(nodes[1].url, 'GET', '/v1/session/records/counter', { token, headers });
    assert.equal(final.body.version, 200);
    process.stdout.write(`# 200 concurrent writes over 3 nodes: all 200 kept (versions 1..200) in ${ms.toFixed(0)} ms\n`);
  });

  it('60 concurrent entry writes over the nodes all land', async () => {
    const s = await create(nodes[0], { rotation: 'on-privilege-change' });
    const headers = { 'session-id': s.id, 'session-key': s.key };
    const entries = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      http(nodes[i % 3].url, 'PUT', `/v1/session/records/log/${String(i).padStart(3, '0')}`, { token, headers, body: { value: i } })));
    assert.deepEqual(entries.map((a) => a.status), Array(60).fill(200));
    const log = await http(nodes[2].url, 'GET', '/v1/session/records/log', { token, headers });
    assert.equal(log.body.entries.length, 60);
  });

  it('serializes turns across nodes: read-modify-write over three services with their own connections loses nothing', async () => {
    // Three in-process services, each with its own Redis connections, stand for three nodes: a turn reads,
    // yields, then writes the value + 1. Only turns that never overlap, on any node, can add up to 60.
    const services = await Promise.all([0, 1, 2].map(async () => new Tessera({
      config: { clients: [{ id: 'web', token, roles: ['app'] }] },
      store: await createRedisStore({ nodes: [{ host: '127.0.0.1', port: redis.port }] }),
    })));
    const client = { id: 'web', roles: ['app'] as const };
    try {
      const created = await services[0].createSession(client, { rotation: 'on-privilege-change' });
      const creds = { id: created.id, key: created.key };
      await Promise.all(Array.from({ length: 60 }, (_, i) => services[i % 3].withSession(client, creds, async (ctx) => {
        let n = 0;
        try { n = (await services[i % 3].getRecord(ctx, 'n') as { value: number }).value; } catch { /* absent */ }
        await new Promise((r) => setTimeout(r, 1));
        await services[i % 3].putRecord(ctx, 'n', null, { value: n + 1 });
      })));
      const { result } = await services[1].withSession(client, creds, (ctx) => services[1].getRecord(ctx, 'n'));
      assert.equal((result as { value: number }).value, 60);
    } finally {
      await Promise.all(services.map((t) => t.close()));
    }
  });

  it('a key replayed on another node revokes the session on every node', async () => {
    const s = await create(nodes[0]);
    const first = await http(nodes[0].url, 'GET', '/v1/session', { token, headers: { 'session-id': s.id, 'session-key': s.key } });
    assert.equal(first.status, 200);
    const k1 = first.headers.get('session-key')!;
    const second = await http(nodes[1].url, 'GET', '/v1/session', { token, headers: { 'session-id': s.id, 'session-key': k1 } });
    assert.equal(second.status, 200);
    const k2 = second.headers.get('session-key')!;
    // the first key is superseded twice over: a replay, seen by a third node
    const replay = await http(nodes[2].url, 'GET', '/v1/session', { token, headers: { 'session-id': s.id, 'session-key': s.key } });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'SESSION_KEY_REPLAYED');
    for (const n of nodes) {
      const after = await http(n.url, 'GET', '/v1/session', { token, headers: { 'session-id': s.id, 'session-key': k2 } });
      assert.equal(after.body.error.code, 'SESSION_INVALID', 'revoked everywhere');
    }
  });

  it('20 sessions racing for 5 seats over 3 nodes: exactly 5 winners', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => create(nodes[i % 3])));
    const seat = (i: number) => `seat:N1:A${i % 5}`;
    const answers = await Promise.all(sessions.map((s, i) => http(nodes[(i + 1) % 3].url, 'POST', '/v1/session/holds',
      { token, headers: { 'session-id': s.id, 'session-key': s.key }, body: { resources: [seat(i)] } })));
    const winners = answers.filter((a) => a.status === 201);
    const conflicts = answers.filter((a) => a.status === 409 && a.body.error.code === 'HOLD_CONFLICT');
    assert.equal(winners.length, 5);
    assert.equal(conflicts.length, 15);
    assert.deepEqual(winners.map((w) => w.body.holds[0].resource).sort(), [0, 1, 2, 3, 4].map(seat));
    process.stdout.write(`# 20 sessions x 5 seats over 3 nodes: ${winners.length} winners, ${conflicts.length} conflicts\n`);
  });

  it('queue:false answers SESSION_BUSY on another node while a request of the session runs', async () => {
    const s = await create(nodes[0], { rotation: 'on-privilege-change', queue: false });
    const headers = { 'session-id': s.id, 'session-key': s.key };
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      http(nodes[i % 3].url, 'PUT', '/v1/session/records/x', { token, headers, body: { value: i } })));
    const ok = answers.filter((a) => a.status === 200).length;
    const busy = answers.filter((a) => a.status === 409 && a.body.error.code === 'SESSION_BUSY').length;
    assert.equal(ok + busy, 30);
    assert.ok(ok >= 1 && busy >= 1, `${ok} served, ${busy} busy`);
  });

  it('queue:false: a request that ended on one node leaves the session free for the next, on any node', async () => {
    // A node keeps a session's lease a moment after a request (so the next one there skips Redis), but never
    // for a queue:false session: done one after the other, no request may see SESSION_BUSY.
    const s = await create(nodes[0], { rotation: 'on-privilege-change', queue: false });
    const headers = { 'session-id': s.id, 'session-key': s.key };
    for (let i = 0; i < 12; i++) {
      const res = await http(nodes[i % 3].url, 'PUT', '/v1/session/records/x', { token, headers, body: { value: i } });
      assert.equal(res.status, 200, `request ${i} on node ${i % 3}: ${JSON.stringify(res.body)}`);
    }
  });

  it('hands a session over between nodes one request after another, each seeing the last write', async () => {
    const s = await create(nodes[0], { rotation: 'on-privilege-change' });
    const headers = { 'session-id': s.id, 'session-key': s.key };
    for (let i = 1; i <= 12; i++) {
      const node = nodes[i % 3];
      const put = await http(node.url, 'PUT', '/v1/session/records/n', { token, headers, body: { value: i } });
      assert.equal(put.status, 200);
      const read = await http(nodes[(i + 1) % 3].url, 'GET', '/v1/session/records/n', { token, headers });
      assert.deepEqual([read.status, read.body.value, read.body.version], [200, i, i]);
    }
  });

  it('shares the store: a session created on one node is served by the others, and no node crashed', async () => {
    const s = await create(nodes[2], { rotation: 'on-privilege-change' });
    for (const n of nodes) {
      assert.equal((await http(n.url, 'GET', '/v1/session', { token, headers: { 'session-id': s.id, 'session-key': s.key } })).status, 200);
      assert.equal((await http(n.url, 'GET', '/readyz', { token })).status, 200);
      assert.equal(n.exited(), false);
    }
  });
});

/** The pids of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).sort();
  } catch {
    return [];
  }
}

/** A PUT on a connection of its own, so that the cluster hands each request to the next worker. */
function putOnNewConnection(url: string, headers: Record<string, string>, value: number): Promise<{ status: number; key: string; version: number }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ value });
    const req = request(`${url}/v1/session/records/counter`, {
      method: 'PUT', agent: false,
      headers: { ...headers, authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, key: String(res.headers['session-key']), version: JSON.parse(text).version }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('one serve with two workers on one Redis (listen.workers)', () => {
  it('shares one port: one listening line, requests spread over both, a dead worker replaced, SIGTERM drains both', async () => {
    const config = join(dir.path, 'tessera.json');
    const serving = await startProcess(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`, '--workers', '2'],
      { cwd: dir.path, env: { ...process.env, TESSERA_ACCESS_LOG: '1' } });
    const primary = serving.child.pid!;
    let workers: number[] = [];
    try {
      assert.equal(serving.output().match(/"msg":"listening on /g)?.length, 1, 'one line, once both workers listen');
      workers = childrenOf(primary);
      assert.equal(workers.length, 2);
      const created = await http(serving.url, 'POST', '/v1/sessions', { token, body: {} });
      let key = created.body.key as string;
      for (let i = 1; i <= 20; i++) {
        const res = await putOnNewConnection(serving.url, { 'session-id': created.body.id, 'session-key': key }, i);
        assert.deepEqual([res.status, res.version], [200, i], 'each rotated key is accepted by whichever worker gets the next request');
        key = res.key;
      }
      const answeredBy = new Set([...serving.output().matchAll(/"pid":(\d+)[^\n]*"status":200/g)].map((m) => Number(m[1])));
      assert.deepEqual([...answeredBy].sort(), workers, 'both workers answered');

      process.kill(workers[0], 'SIGKILL');
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (childrenOf(primary).length < 2 || childrenOf(primary).includes(workers[0]))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const replaced = childrenOf(primary);
      assert.equal(replaced.length, 2, 'a new worker took its place');
      assert.match(serving.output(), new RegExp(`worker ${workers[0]} exited \\(SIGKILL\\); starting another`));
      workers = replaced;
      for (let i = 21; i <= 24; i++) {
        const res = await putOnNewConnection(serving.url, { 'session-id': created.body.id, 'session-key': key }, i);
        assert.deepEqual([res.status, res.version], [200, i]);
        key = res.key;
      }
    } finally {
      assert.equal(await serving.stop(), 0, 'SIGTERM: both drain, exit 0');
    }
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });

  it('refuses more than one worker on a store the processes cannot share, and a bad count', async () => {
    const memory = await runCli(['serve', '--port', '0', '--store', 'memory:', '--workers', '2'], { cwd: dir.path });
    assert.equal(memory.code, 2);
    assert.match(memory.stderr, /listen\.workers: more than 1 needs a store the processes share/);
    const zero = await runCli(['serve', '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`, '--workers', '0'], { cwd: dir.path });
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--workers: '0' is not a number of processes/);
  });
});
