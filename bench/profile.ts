// Profiles one Tessera workload: starts `tessera serve` (dist/) under
// `node --cpu-prof`, drives it with autocannon from this process for
// BENCH_DURATION seconds (50 connections, a session each), stops it and
// prints where the profile file is, the top self-time functions, and the
// busy time split by part (each sample goes to its nearest caller that names
// a part, so SQLite's C code counts as SQLite and a hash as crypto).
//   npm run build && node --import tsx bench/profile.ts keepalive|write|create [sqlite|redis://HOST:PORT]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx, HttpWorkload } from './adapters.js';
import { driveTessera } from './drive.js';
import { keepAliveAgent } from './http.js';

const workload = (process.argv[2] ?? 'keepalive') as HttpWorkload;
const dir = mkdtempSync(join(tmpdir(), 'tessera-profile-'));
const store = process.argv[3] ?? `sqlite:${join(dir, 'p.db')}`;
const token = randomBytes(32).toString('base64url');
writeFileSync(join(dir, 'c.json'), JSON.stringify({ clients: [{ id: 'p', token, roles: ['app'] }], session: { maxIdleTimeout: 86400 }, rateLimit: { enabled: false } }));
const server = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/cli/main.js', 'serve', '--port', '0', '--store', store, '--config', join(dir, 'c.json')],
  { env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => server.stdout!.on('data', (d: Buffer) => {
  const m = /listening on (http:\/\/[^\s"]+)/.exec(d.toString());
  if (m) resolve(m[1]);
}));
const ctx: Ctx = { base: new URL(url), agent: keepAliveAgent(50), token };
const result = await driveTessera(ctx, workload, 50, Number(process.env.BENCH_DURATION ?? 10));
console.log(`${workload}: ${result.requests.total} answers, ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
ctx.agent.destroy();
const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[] };
const self = new Map<number, number>();
for (const s of profile.samples) self.set(s, (self.get(s) ?? 0) + 1);
const byName = new Map<string, number>();
for (const node of profile.nodes) {
  const { functionName, url: src, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${src.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '')}:${lineNumber + 1}`;
  byName.set(name, (byName.get(name) ?? 0) + (self.get(node.id) ?? 0));
}
const total = profile.samples.length;
console.log(`profile: ${file}`);
for (const [name, c] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40))) {
  console.log(`${(100 * c / total).toFixed(1).padStart(5)} %  ${name}`);
}

// The split by part (BENCHMARKS.md, "What limits it now").
const PARTS: [string, RegExp][] = [
  ['SQLite (statements, savepoints, commit)', /store\/sqlite|better-sqlite3/],
  ['Redis client (ioredis) and scripts', /ioredis|store\/redis/],
  ['key crypto (SHA-256, HMAC, random, token check)', /core\/keys|node:internal\/crypto|http\/clients/],
  ['socket writes (kernel)', /^writev /],
  ["Tessera's hooks, queue, service and routes", /\/dist\/(http|service|queue|core|views|transactions|holds|users|cursors)/],
  ['Fastify and Node HTTP (parse, route, reply)', /fastify|find-my-way|node:_http|node:net|node:internal\/streams|node:events|secure-json|stream_base|pino/],
];
const parent = new Map<number, number>();
for (const node of profile.nodes as { id: number; children?: number[] }[]) for (const c of node.children ?? []) parent.set(c, node.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parts = new Map<string, number>();
let busy = 0;
for (const [id, count] of self) {
  const fn = byId.get(id)!.callFrame.functionName;
  if (fn === '(idle)') continue;
  busy += count;
  let part = fn === '(garbage collector)' ? 'GC' : 'other (program, timers, microtasks)';
  for (let cur: number | undefined = id; cur !== undefined && part.startsWith('other'); cur = parent.get(cur)) {
    const { functionName, url: src } = byId.get(cur)!.callFrame;
    part = PARTS.find(([, re]) => re.test(`${functionName} ${src}`))?.[0] ?? part;
  }
  parts.set(part, (parts.get(part) ?? 0) + count);
}
console.log('busy time by part:');
for (const [part, c] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`${(100 * c / busy).toFixed(1).padStart(5)} %  ${part}`);
