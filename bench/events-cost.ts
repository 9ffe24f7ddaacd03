/**
 * What events cost, measured in one process with the load interleaved, so
 * that a shared machine's drift hits every variant alike:
 *
 *   node --import tsx bench/events-cost.ts [sqlite|redis] [batches]
 *
 * Each batch creates 500 sessions through the service, 50 at a time
 * (`createSession`: one `session.created` event each) and 500 keep-alives through the HTTP face
 * (`app.inject`, no event), under three variants in turn: events not
 * published at all (the feed's publish stubbed: what Tessera cost before the
 * event stream), published with no subscriber, and published with one
 * subscriber of GET /v1/admin/events reading over a real socket (curl, in a
 * process of its own). It prints
 * the median CPU µs (user + system of this process; for Redis, also
 * redis-server's from /proc) per operation of each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { openStore } from '../src/store/open.js';
import { startRedis } from '../test/helpers/redis.js';

const engine = process.argv[2] ?? 'sqlite';
const batches = Number(process.argv[3] ?? 9);
const N = 500;
const token = 'events-cost-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'tessera-events-cost-'));
const redis = engine === 'redis' ? await startRedis() : null;
const store = await openStore(redis ? `redis://127.0.0.1:${redis.port}` : `sqlite:${join(dir, 'cost.db')}`);
const tessera = new Tessera({ store, config: { clients: [{ id: 'bench', token, roles: ['app', 'admin'] }], session: { maxIdleTimeout: 86400 } } });
const app = buildServer(tessera);
const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
const client = { id: 'bench', roles: ['app', 'admin'] as const };
const publish = tessera.feed.publish.bind(tessera.feed);

function redisCpuUs(): number {
  if (!redis) return 0;
  const f = readFileSync(`/proc/${redis.process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) / 100) * 1e6;
}
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

let received = 0;
/** The subscriber: curl in a process of its own (its CPU is not this process's), counting the events it read. */
function subscribe(): () => void {
  const curl = spawn('curl', ['-sN', '-H', `authorization: Bearer ${token}`, `${url.origin}/v1/admin/events`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let tail = '';
  curl.stdout.on('data', (c: Buffer) => {
    const text = tail + c.toString();
    received += text.split('\nevent: ').length - 1;
    tail = text.slice(-8);
  });
  return () => curl.kill();
}

async function batch(): Promise<{ create: number; createRedis: number; keepalive: number }> {
  let c0 = cpuUs(); let r0 = redisCpuUs();
  // 50 at a time, as 50 connections would send them.
  for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, () => tessera.createSession(client)));
  const create = (cpuUs() - c0) / N;
  const createRedis = (redisCpuUs() - r0) / N;
  const s = await tessera.createSession(client, { rotation: 'on-privilege-change' });
  const headers = { authorization: `Bearer ${token}`, 'session-id': s.id, 'session-key': s.key, 'content-type': 'application/json' };
  c0 = cpuUs(); r0 = redisCpuUs();
  for (let i = 0; i < N; i++) await app.inject({ method: 'POST', url: '/v1/session/keepalive', headers, payload: '{}' });
  return { create, createRedis, keepalive: (cpuUs() - c0) / N };
}

const variants = ['not published', 'no subscriber', 'one subscriber'] as const;
const results: Record<string, { create: number[]; createRedis: number[]; keepalive: number[] }> =
  Object.fromEntries(variants.map((v) => [v, { create: [], createRedis: [], keepalive: [] }]));
await batch(); // warm-up
for (let b = 0; b < batches; b++) {
  for (const v of b % 2 ? [...variants].reverse() : variants) {
    tessera.feed.publish = v === 'not published' ? () => {} : publish;
    const stop = v === 'one subscriber' ? subscribe() : null;
    if (stop) await new Promise((r) => setTimeout(r, 100));
    const r = await batch();
    await new Promise((done) => setTimeout(done, 200)); // let the subscriber read what is left
    stop?.();
    results[v].create.push(r.create);
    results[v].createRedis.push(r.createRedis);
    results[v].keepalive.push(r.keepalive);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(`engine ${engine}, ${batches} batches of ${N}; the subscriber read ${received} events\n`);
process.stdout.write(`| variant | create: Node CPU µs/op | create: redis-server CPU µs/op | keep-alive (no event): Node CPU µs/op |\n|---|---:|---:|---:|\n`);
for (const v of variants) {
  const r = results[v];
    // redis-server's CPU comes in clock ticks (10 ms): over all batches, not a median of batches.
  const redisUs = r.createRedis.reduce((a, b) => a + b, 0) / r.createRedis.length;
  process.stdout.write(`| ${v} | ${median(r.create).toFixed(1)} | ${redis ? redisUs.toFixed(1) : '–'} | ${median(r.keepalive).toFixed(1)} |\n`);
}
await app.close();
await tessera.close();
await redis?.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
