// SQLite commits per answer under HTTP load: starts `tessera serve` (dist/) on
// SQLite with bench/count-commits.mjs preloaded (it counts the COMMITs the
// store runs), drives one workload with autocannon from this process
// (50 connections, a session each, BENCH_DURATION seconds), stops it and
// prints answers, commits and commits per answer. Group commit makes one
// commit per event-loop turn, so the figure falls as more requests share a turn.
//   npm run build && node --import tsx bench/commits.ts keepalive|write|create
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx, HttpWorkload } from './adapters.js';
import { driveTessera } from './drive.js';
import { keepAliveAgent } from './http.js';

const workload = (process.argv[2] ?? 'keepalive') as HttpWorkload;
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'tessera-commits-'));
const token = randomBytes(32).toString('base64url');
writeFileSync(join(dir, 'c.json'), JSON.stringify({ clients: [{ id: 'p', token, roles: ['app'] }], session: { maxIdleTimeout: 86400 } }));
const server = spawn(process.execPath, ['--import', join(import.meta.dirname, 'count-commits.mjs'), 'dist/cli/main.js', 'serve', '--port', '0',
  '--store', `sqlite:${join(dir, 'c.db')}`, '--config', join(dir, 'c.json')],
{ env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
const url = await new Promise<string>((resolve) => server.stdout!.on('data', (d: Buffer) => {
  const m = /listening on (\S+)/.exec(d.toString());
  if (m) resolve(m[1]);
}));
const ctx: Ctx = { base: new URL(url), agent: keepAliveAgent(connections), token };
const result = await driveTessera(ctx, workload, connections, Number(process.env.BENCH_DURATION ?? 5));
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
ctx.agent.destroy();
rmSync(dir, { recursive: true, force: true });
const m = /tessera-commits (\{.*\})/.exec(stderr);
if (!m) throw new Error(`the server printed no commit count (stderr: ${stderr.slice(0, 300)})`);
const { commits } = JSON.parse(m[1]) as { commits: number };
// The answers the server gave: the measured run's, plus the set-up (one creation per connection, and one write for `write`).
const answers = result.requests.total + connections * (workload === 'create' ? 0 : 1);
console.log(`${workload}: ${Math.round(result.requests.average)} req/s, ${answers} answers, ${commits} commits, ` +
  `${(commits / answers).toFixed(3)} commits per answer (${(answers / commits).toFixed(1)} answers per commit)`);
