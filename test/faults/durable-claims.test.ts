/**
 * Fault suite: the durable profile for sales on Redis (issue 19). A claim
 * (a confirmed hold) acknowledged by a Redis with `appendonly yes` and
 * `appendfsync always` survives kill -9 of Redis: the reply follows the
 * fsync. With `?wait=1` a confirm is answered only once a replica has the
 * sale (WAIT); with the replica gone it is 503 STORE_UNAVAILABLE, never a
 * 200 that a primary's crash could take back.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/harness.js';
import { startRedis } from '../helpers/redis.js';
import { http, startServe, stopServe, type Node } from '../helpers/serve.js';

const token = 'durable-test-token-0123456789';
const dir = tempDir();
after(() => dir.remove());
const config = join(dir.path, 'tessera.json');
writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }] }));
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A session (rotation on privilege change: one key throughout) that holds and confirms `seats`. */
async function sell(node: Node, seats: string[]): Promise<{ headers: Record<string, string>; status: number; body: any }> {
  const c = await http(node.url, 'POST', '/v1/sessions', { token, body: { rotation: 'on-privilege-change' } });
  assert.equal(c.status, 201);
  const headers = { 'session-id': c.body.id, 'session-key': c.body.key };
  const held = await http(node.url, 'POST', '/v1/session/holds', { token, body: { resources: seats }, headers });
  assert.equal(held.status, 201, JSON.stringify(held.body));
  const confirmed = await http(node.url, 'POST', '/v1/session/holds/confirm', { token, body: {}, headers });
  return { headers, status: confirmed.status, body: confirmed.body };
}

describe('faults: durable sales on Redis', () => {
  it('claims acknowledged with appendfsync always survive kill -9 of Redis', async (t) => {
    const redis = await startRedis(AOF);
    const node = await startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`], dir.path);
    try {
      const sold: { headers: Record<string, string>; seat: string }[] = [];
      // Sales run while Redis is killed: every one acknowledged must be there after the restart.
      let running = true;
      const loops = Array.from({ length: 4 }, async (_, l) => {
        for (let i = 0; running; i++) {
          const seat = `seat:E${l}:${i}`;
          const s = await sell(node, [seat]).catch(() => null);
          if (s?.status === 200) sold.push({ headers: s.headers, seat });
          else await sleep(50);
        }
      });
      await sleep(1500);
      await redis.kill();
      running = false;
      await Promise.all(loops);
      await redis.restart();
      let lost = 0;
      for (const s of sold) {
        let list = await http(node.url, 'GET', '/v1/session/holds', { token, headers: s.headers });
        for (let i = 0; list.status === 503 && i < 50; i++) { await sleep(100); list = await http(node.url, 'GET', '/v1/session/holds', { token, headers: s.headers }); }
        assert.equal(list.status, 200, JSON.stringify(list.body));
        if (!list.body.claims.some((c: { resource: string }) => c.resource === s.seat)) { lost++; if (lost === 1) t.diagnostic(`lost ${s.seat}: ${JSON.stringify(list.body)}`); }
      }
      assert.ok(sold.length > 0);
      assert.equal(lost, 0, `${lost} of ${sold.length} acknowledged claims lost`);
      t.diagnostic(`claims acknowledged before kill -9: ${sold.length}; lost after restart: ${lost}`);
    } finally {
      await stopServe(node);
      await redis.stop();
    }
  });

  it('with ?wait=1 a confirm waits for a replica; without one it is 503, never an unreplicated 200', async (t) => {
    const primary = await startRedis(AOF);
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    for (let i = 0; i < 100 && !/master_link_status:up/.test(await infoOf(replica.port)); i++) await sleep(100);
    const node = await startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${primary.port}?wait=1&waitTimeout=500`], dir.path);
    try {
      const ok = await sell(node, ['seat:W:1']);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await replica.kill();
      const refused = await sell(node, ['seat:W:2']);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'STORE_UNAVAILABLE');
      t.diagnostic(`with a replica: ${ok.status}; replica gone: ${refused.status} ${refused.body.error.code}`);
    } finally {
      await stopServe(node);
      await replica.stop();
      await primary.stop();
    }
  });
});

/** The whole INFO replication text of a Redis (redisCommand gives only its first line). */
async function infoOf(port: number): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (c) => { out += c.toString(); if (out.includes('master_link_status')) { s.destroy(); resolve(out); } });
    s.on('error', () => resolve(out));
    setTimeout(() => { s.destroy(); resolve(out); }, 1000);
    s.write('INFO replication\r\n');
  });
}
