// Compares the CPU per answer of two builds of Tessera on one workload, in
// alternation (A B B A A B ...), so that a busy machine weighs on both alike.
// Each build is a checkout with `dist/` built (`npm run build`); each run starts
// `tessera serve` on a fresh SQLite file, warms up, then drives it with
// autocannon (50 connections, a session each) for BENCH_DURATION seconds and
// reads the server's CPU time (all threads) from /proc before and after.
// It prints both medians and the median of each round's ratio (the steadier).
//   node --import tsx bench/compare.ts keepalive|write DIR_A DIR_B [rounds]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Ctx, HttpWorkload } from './adapters.js';
import { driveTessera } from './drive.js';
import { keepAliveAgent } from './http.js';

const [workload, dirA, dirB] = process.argv.slice(2) as [HttpWorkload, string, string];
const rounds = Number(process.argv[5] ?? 3);
const seconds = Number(process.env.BENCH_DURATION ?? 5);
if (!dirA || !dirB) throw new Error('usage: bench/compare.ts keepalive|write DIR_A DIR_B [rounds]');

/** utime + stime of a process, all its threads, in µs (/proc counts 100 ticks a second). */
const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

async function drive(ctx: Ctx, s: number): Promise<number> {
  const result = await driveTessera(ctx, workload, 50, s);
  if (result.non2xx) throw new Error(`${result.non2xx} answers were not 2xx`);
  return result['2xx'];
}

async function run(dir: string): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'tessera-compare-'));
  const token = randomBytes(32).toString('base64url');
  // Rate limits off where the build knows them (the load comes from one address).
  const config = ['dist/core/config.js', 'dist/config.js'].map((f) => join(dir, f)).find(existsSync);
  const knowsRateLimit = config !== undefined && readFileSync(config, 'utf8').includes('rateLimit');
  writeFileSync(join(scratch, 'c.json'), JSON.stringify({
    clients: [{ id: 'p', token, roles: ['app'] }], session: { maxIdleTimeout: 86400 }, ...(knowsRateLimit ? { rateLimit: { enabled: false } } : {}),
  }));
  const server = spawn(process.execPath, [join(dir, 'dist/cli/main.js'), 'serve', '--port', '0', '--store', `sqlite:${join(scratch, 'c.db')}`, '--config', join(scratch, 'c.json')],
    { cwd: dir, env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((res, rej) => {
      server.once('exit', (code) => rej(new Error(`${dir}: the server exited (${code})`)));
      server.stdout!.on('data', (d: Buffer) => {
        const m = /listening on (http:\/\/[^\s"]+)/.exec(d.toString());
        if (m) res(m[1]);
      });
    });
    const ctx: Ctx = { base: new URL(url), agent: keepAliveAgent(50), token };
    await drive(ctx, 2);
    const before = cpu(server.pid!);
    const answers = await drive(ctx, seconds);
    const used = cpu(server.pid!) - before;
    ctx.agent.destroy();
    return used / answers;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(scratch, { recursive: true, force: true });
  }
}

const figures: Record<'A' | 'B', number[]> = { A: [], B: [] };
for (let i = 0; i < rounds; i++) {
  for (const which of (i % 2 ? ['B', 'A'] : ['A', 'B']) as ('A' | 'B')[]) {
    const us = await run(resolve(which === 'A' ? dirA : dirB));
    figures[which].push(us);
    console.error(`round ${i + 1} ${which}: ${us.toFixed(1)} µs per answer`);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const [a, b] = [median(figures.A), median(figures.B)];
// The two runs of a round are next to each other in time: their ratio is what a drifting machine moves least.
const paired = median(figures.B.map((x, i) => x / figures.A[i]));
console.log(`${workload}, CPU µs per answer (server, all threads), median of ${rounds}: A ${a.toFixed(1)} (${dirA}), B ${b.toFixed(1)} (${dirB}), `
  + `B/A ${(b / a).toFixed(3)}; median of the rounds' B/A ${paired.toFixed(3)}`);
