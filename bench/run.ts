// `npm run bench`: starts every system in its own process, drives them from a
// separate load process, alternates their order round by round, and reports
// medians and same-round ratios to bare Fastify. See bench/README.md.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  killAllNow,
  peakRssKiB,
  spawnTracked,
  startReaper,
  startServer,
  stopAll,
  stopChild,
  stopReaper,
  Tail,
  track,
  type RunningServer,
} from './procs.js';
import type { Job, JobResult, Request, Response } from './protocol.js';
import { startRedis, type RedisServer } from './redis.js';
import {
  markdown,
  summarize,
  type HoldsRun,
  type LostUpdateRun,
  type Measurement,
  type Results,
  type SweepRun,
  type SystemReport,
} from './report.js';
import type { SweepJob, SweepOutput } from './sweep.js';
import { BASELINE, SYSTEMS, WORKLOADS, type SystemId, type SystemSpec, type Workload } from './registry.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const TESSERA_CLI = join(ROOT, 'dist', 'cli', 'main.js');

// ------------------------------------------------------------------ config

function num(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${raw}: expected a number >= ${min}`);
  return value;
}

function list<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w as T));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((a) => wanted.includes(a));
}

const EXTRA_WORKLOADS = ['holds', 'sweep', 'lost-update'] as const;
type AnyWorkload = Workload | (typeof EXTRA_WORKLOADS)[number];

const config = {
  durationS: num('BENCH_DURATION', 7, 1),
  warmupS: num('BENCH_WARMUP', 2),
  rounds: Math.floor(num('BENCH_ROUNDS', 3, 1)),
  connections: Math.floor(num('BENCH_CONNECTIONS', 50, 1)),
  systems: list<SystemId>('BENCH_SYSTEMS', SYSTEMS.map((s) => s.id)),
  workloads: list<AnyWorkload>('BENCH_WORKLOADS', [...WORKLOADS.map((w) => w.id), ...EXTRA_WORKLOADS]),
  build: process.env.BENCH_BUILD !== '0',
  lostUpdates: Math.floor(num('BENCH_LOST_UPDATES', 200, 1)),
  holdsBuyers: Math.floor(num('BENCH_HOLDS_BUYERS', 1000, 1)),
  holdsSeats: Math.floor(num('BENCH_HOLDS_SEATS', 100, 1)),
  sweepSizes: (process.env.BENCH_SWEEP_SIZES ?? '1000000,100000').split(',').map((x) => Math.floor(Number(x))),
  sweepExpired: Math.floor(num('BENCH_SWEEP_EXPIRED', 10_000, 1)),
  sweepSeedBudgetS: num('BENCH_SWEEP_SEED_BUDGET', 150, 1),
  verbose: process.env.BENCH_VERBOSE === '1',
  /** BENCH_EVENTS=1: a subscriber of GET /v1/admin/events stays connected to each Tessera server, reading every event. */
  events: process.env.BENCH_EVENTS === '1',
};
if (config.sweepSizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_SWEEP_SIZES: expected sizes like 1000000,100000');
// Every figure is a ratio to the baseline, so it always runs.
if (!config.systems.includes(BASELINE)) config.systems.unshift(BASELINE);
const httpWorkloads = WORKLOADS.map((w) => w.id).filter((w) => config.workloads.includes(w));

const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------ housekeeping

const scratch = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
let load: LoadProcess | undefined;
/** Set once a signal asked us to stop: no new job starts after that. */
let stopping = false;

async function cleanup(): Promise<void> {
  stopping = true;
  await load?.stop();
  await stopAll();
  stopReaper();
  rmSync(scratch, { recursive: true, force: true });
}

process.on('exit', () => {
  killAllNow();
  rmSync(scratch, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping every child process`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ------------------------------------------------------------ load process

class LoadProcess {
  private child!: ChildProcess;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor() {
    this.start();
  }

  private start(): void {
    this.child = track(
      fork(join(BENCH_DIR, 'load.ts'), [], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.child.on('message', (message: Response) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    });
    this.child.on('exit', (code, signal) => {
      for (const [id, waiter] of this.pending) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`load process exited (${signal ?? `code ${code}`})`));
        this.pending.delete(id);
      }
    });
  }

  run(job: Job, timeoutMs: number): Promise<JobResult> {
    const id = this.nextId++;
    if (stopping || !this.child.connected) return Promise.reject(new Error('the load process is gone (stopping)'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load job ${job.kind} timed out after ${Math.round(timeoutMs / 1000)} s`));
        // A stuck job leaves a stuck process: replace it.
        void stopChild(this.child, 1000).then(() => this.start());
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, job } satisfies Request, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await stopChild(this.child, 2000);
  }
}

// ----------------------------------------------------------------- systems

interface Live {
  spec: SystemSpec;
  server?: RunningServer;
  redis?: RedisServer;
  token?: string;
  skipped?: string;
  peakRssKiB?: number;
  storePeakRssKiB?: number;
  /** BENCH_EVENTS=1: the event stream subscriber, and how many events it read. */
  subscriber?: { abort: AbortController; events: number };
}

/** bench/systems/*.ts -> bench/.build/systems/*.js, so the servers run without a TS loader in their process. */
function transpileSystems(): string {
  const from = join(BENCH_DIR, 'systems');
  const to = join(BENCH_DIR, '.build', 'systems');
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from).filter((f) => f.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(from, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(to, file.replace(/\.ts$/, '.js')), outputText);
  }
  return to;
}

const notes: string[] = [];

/** Builds Tessera (tsc -p tsconfig.build.json, then npm run build:lua); answers why it cannot run, or undefined. */
async function buildTessera(): Promise<string | undefined> {
  if (config.build && existsSync(join(ROOT, 'src'))) {
    log('building Tessera: tsc -p tsconfig.build.json && npm run build:lua');
    const child = spawnTracked(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new Tail(2000);
    child.stdout!.on('data', (c: Buffer) => output.push(c));
    child.stderr!.on('data', (c: Buffer) => output.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    const first = output.toString().split('\n').slice(0, 2).join(' / ');
    // tsc exits 2 when it reported type errors but still wrote dist/ (noEmitOnError is off):
    // the code that runs is the current src/, so measure it and say so.
    if (code === 2) {
      notes.push(`Tessera's build reported type errors (dist/ was emitted anyway): ${first}`);
      log(`warning: ${notes[notes.length - 1]}`);
    } else if (code !== 0) {
      return `the build failed (tsc -p tsconfig.build.json, exit ${code}): ${first}`;
    }
    // The rest of `npm run build`: the Redis engine's Lua scripts, which tsc does not copy.
    const copy = spawnTracked('npm', ['run', '--silent', 'build:lua'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const copied = await new Promise<number | null>((resolve) => { copy.once('exit', resolve); copy.once('error', () => resolve(null)); });
    if (copied !== 0) return `the build failed (npm run build:lua, exit ${copied})`;
  }
  if (!existsSync(TESSERA_CLI)) return 'dist/cli/main.js does not exist (no server to run yet)';
  return undefined;
}

async function startSystem(live: Live, systemsDir: string, tesseraProblem: string | undefined): Promise<void> {
  const { spec } = live;
  const launch = spec.launch;
  if ('tessera' in launch && tesseraProblem) {
    live.skipped = tesseraProblem;
    return;
  }
  try {
    if (spec.redis) live.redis = await startRedis(scratch);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      BENCH_SECRET: randomBytes(32).toString('base64url'),
      ...(live.redis ? { BENCH_REDIS_URL: live.redis.url } : {}),
    };
    if ('script' in launch) {
      const script = join(systemsDir, `${launch.script}.js`);
      live.server = await startServer(spec.id, process.execPath, [script], { cwd: ROOT, env, verbose: config.verbose });
    } else {
      live.token = randomBytes(32).toString('base64url');
      const dir = mkdtempSync(join(scratch, `${spec.id}-`));
      const configFile = join(dir, 'config.json');
      writeFileSync(
        configFile,
        // Rate limits off: the bench floods from one address on purpose (docs/outages-and-limits.md).
        JSON.stringify({
          clients: [{ id: 'bench', token: live.token, roles: config.events ? ['app', 'admin'] : ['app'] }],
          session: { maxIdleTimeout: 86400 }, rateLimit: { enabled: false },
        }),
      );
      const store = launch.tessera === 'sqlite'
        ? `sqlite:${join(dir, 'bench.db')}${launch.synchronous ? `?synchronous=${launch.synchronous}` : ''}` : live.redis!.url;
      live.server = await startServer(
        spec.id,
        process.execPath,
        [TESSERA_CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--store', store, '--config', configFile,
          ...(launch.workers ? ['--workers', String(launch.workers)] : [])],
        { cwd: ROOT, env, verbose: config.verbose },
      );
    }
    log(`started ${spec.label}: ${live.server.url} (pid ${live.server.pid})${live.redis ? `, redis-server :${live.redis.port} (pid ${live.redis.pid})` : ''}`);
    if (config.events && 'tessera' in launch) await subscribe(live);
  } catch (err) {
    live.skipped = `could not start: ${(err as Error).message}`;
    await live.redis?.stop();
    live.redis = undefined;
  }
}

/** BENCH_EVENTS=1: reads the server's event stream in this process until the end, counting the events. */
async function subscribe(live: Live): Promise<void> {
  const sub = { abort: new AbortController(), events: 0 };
  const res = await fetch(`${live.server!.url}/v1/admin/events`, { headers: { authorization: `Bearer ${live.token}` }, signal: sub.abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/admin/events answered ${res.status}`);
  live.subscriber = sub;
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) sub.events += decoder.decode(chunk).split('\nevent: ').length - 1;
    } catch { /* aborted at the end */ }
  })();
  log(`${live.spec.label}: an event stream subscriber is connected`);
}

function usable(live: Live): boolean {
  if (live.skipped) return false;
  if (live.server?.died) {
    live.skipped = `server ${live.server.died} during the run: ${live.server.stderr.toString().split('\n').slice(-3).join(' ')}`;
    log(`${live.spec.label}: ${live.skipped}`);
    return false;
  }
  return true;
}

/** Runs bench/sweep.ts for one Tessera system, on a store of its own. */
async function runSweep(live: Live): Promise<Pick<SweepRun, 'result' | 'skipped'>> {
  let redis: RedisServer | undefined;
  try {
    if ('tessera' in live.spec.launch && live.spec.redis) redis = await startRedis(scratch);
    const job: SweepJob = {
      store: redis ? redis.url : 'sqlite',
      sizes: config.sweepSizes,
      expired: config.sweepExpired,
      batch: 1000,
      seedBudgetS: config.sweepSeedBudgetS,
      dir: scratch,
    };
    const child = spawnTracked(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'sweep.ts'), JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', config.verbose ? 'inherit' : 'ignore'],
    });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const limitMs = (config.sweepSeedBudgetS * config.sweepSizes.length + 60) * 1000;
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    const last = stdout.trim().split('\n').pop() ?? '';
    let out: SweepOutput;
    try {
      out = JSON.parse(last) as SweepOutput;
    } catch {
      return { skipped: `bench/sweep.ts ended (code ${code}) without a result${code === null ? ` (killed after ${limitMs / 1000} s)` : ''}` };
    }
    return 'skipped' in out ? { skipped: out.skipped } : { result: out.sizes };
  } catch (err) {
    return { skipped: `could not run: ${(err as Error).message}` };
  } finally {
    await redis?.stop();
  }
}

// -------------------------------------------------------------------- main

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'none yet (no commit)';
  }
}

function envCommand(): string {
  const set = Object.keys(process.env).filter((k) => k.startsWith('BENCH_')).sort().map((k) => `${k}=${process.env[k]}`);
  return [...set, 'npm run bench'].join(' ');
}

async function main(): Promise<number> {
  const started = Date.now();
  const commit = gitCommit(); // what is built and measured: the tree as the run starts, not as it ends
  const perMeasurement = config.warmupS + config.durationS + 0.5;
  const tesseraSystems = config.systems.filter((id) => id.startsWith('tessera')).length;
  const sweptStores = config.systems.filter((id) => id === 'tessera-sqlite' || id === 'tessera-redis').length;
  const sweepS = (config.sweepSizes.reduce((a, b) => a + b, 0) / 1_000_000) * 30 + 5;
  const estimateS =
    config.rounds * httpWorkloads.length * config.systems.length * perMeasurement +
    (config.workloads.includes('holds') ? config.rounds * tesseraSystems * 5 : 0) +
    (config.workloads.includes('lost-update') ? 5 * config.systems.length : 0) +
    (config.workloads.includes('sweep') ? sweptStores * sweepS : 0) +
    30;
  const watchdogS = num('BENCH_TIMEOUT', Math.ceil(estimateS * 1.5 + 180), 10);
  setTimeout(() => {
    log(`\nwatchdog: the bench ran past ${watchdogS} s (BENCH_TIMEOUT); stopping everything`);
    killAllNow();
    process.exit(3);
  }, watchdogS * 1000).unref();
  log(
    `tessera bench: ${config.rounds} rounds × ${httpWorkloads.length} workloads × ${config.systems.length} systems, ` +
      `${config.warmupS} s warm-up + ${config.durationS} s each, ${config.connections} connections; ` +
      `about ${Math.ceil(estimateS / 60)} min (hard stop after ${watchdogS} s)`,
  );

  startReaper(join(BENCH_DIR, 'reaper.ts'), ROOT, scratch);
  const systemsDir = transpileSystems();
  const needsTessera = config.systems.some((id) => id.startsWith('tessera'));
  const tesseraProblem = needsTessera ? await buildTessera() : undefined;
  if (tesseraProblem) log(`Tessera skipped: ${tesseraProblem}`);

  const lives: Live[] = config.systems.map((id) => ({ spec: SYSTEMS.find((s) => s.id === id)! }));
  for (const live of lives) {
    await startSystem(live, systemsDir, tesseraProblem);
    // A Tessera build problem was already said once, above.
    if (live.skipped && !('tessera' in live.spec.launch && tesseraProblem)) log(`${live.spec.label} skipped: ${live.skipped}`);
  }
  const baseline = lives.find((l) => l.spec.id === BASELINE)!;
  if (baseline.skipped) throw new Error(`the baseline did not start: ${baseline.skipped}`);

  load = new LoadProcess();
  const measurements: Measurement[] = [];
  const holds: HoldsRun[] = [];
  const lostUpdate: LostUpdateRun[] = [];
  const jobTimeoutMs = (config.warmupS + config.durationS) * 1000 + 90_000;
  const holdsSkipped = new Map<SystemId, string>();

  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? lives : [...lives].reverse();
    for (const workload of httpWorkloads) {
      let position = 0;
      for (const live of order) {
        if (stopping) return 130;
        if (!usable(live)) continue;
        const m: Measurement = { round, position: position++, workload, system: live.spec.id };
        try {
          const result = await load.run(
            {
              kind: 'http-load',
              url: live.server!.url,
              adapter: live.spec.adapter,
              workload,
              token: live.token,
              connections: config.connections,
              warmupS: config.warmupS,
              durationS: config.durationS,
              cpuPids: { server: live.server!.pid, store: live.redis?.pid },
            },
            jobTimeoutMs,
          );
          if ('skipped' in result) m.skipped = result.skipped;
          else if ('rps' in result && 'durationS' in result) m.result = result;
        } catch (err) {
          m.skipped = `failed: ${(err as Error).message.split('\n')[0]}`;
        }
        measurements.push(m);
        log(
          `round ${round + 1}/${config.rounds} ${workload.padEnd(9)} ${live.spec.label.padEnd(34)} ` +
            (m.result
              ? `${Math.round(m.result.rps).toString().padStart(6)} req/s  p50 ${m.result.p50.toFixed(2)} ms  p99 ${m.result.p99.toFixed(2)} ms` +
                (m.result.cpuUs ? `  cpu ${m.result.cpuUs.server.toFixed(1)}${m.result.cpuUs.store === undefined ? '' : ` + ${m.result.cpuUs.store.toFixed(1)}`} µs/req` : '') +
                (live.spec.adapter === 'tessera' && workload !== 'create'
                  ? `  new key on ${Math.round((100 * m.result.credentialChanges) / Math.max(1, m.result.ok))}% of answers`
                  : '') +
                (m.result.non2xx + m.result.errors ? `  (${m.result.non2xx} non-2xx, ${m.result.errors} errors: ${JSON.stringify(m.result.statusCodes)})` : '')
              : `skipped: ${m.skipped}`),
        );
        if (!usable(live)) continue;
      }
    }

    if (config.workloads.includes('holds')) {
      for (const live of order) {
        if (stopping) return 130;
        if (live.spec.adapter !== 'tessera') continue;
        const run: HoldsRun = { round, system: live.spec.id };
        holds.push(run);
        const earlier = holdsSkipped.get(live.spec.id);
        if (earlier || !usable(live)) {
          run.skipped = earlier ?? live.skipped;
          continue;
        }
        try {
          const result = await load.run(
            {
              kind: 'holds-race',
              url: live.server!.url,
              token: live.token!,
              buyers: config.holdsBuyers,
              seats: config.holdsSeats,
              connections: config.connections,
              event: `E${Date.now().toString(36)}r${round}`,
              attemptsPerBuyer: 5,
            },
            180_000,
          );
          if ('skipped' in result) {
            run.skipped = result.skipped;
            holdsSkipped.set(live.spec.id, result.skipped);
          } else if ('sold' in result) run.result = result;
        } catch (err) {
          run.skipped = `failed: ${(err as Error).message.split('\n')[0]}`;
        }
        log(
          `round ${round + 1}/${config.rounds} holds     ${live.spec.label.padEnd(34)} ` +
            (run.result
              ? `sold ${run.result.sold}/${run.result.seats}, oversold ${run.result.oversold}, ${Math.round(run.result.rps)} req/s, ${run.result.elapsedMs} ms`
              : `skipped: ${run.skipped}`),
        );
      }
    }
  }

  if (config.workloads.includes('lost-update')) {
    for (const live of lives) {
      if (stopping) return 130;
      if (live.spec.adapter === 'baseline') continue;
      for (const mode of live.spec.adapter === 'tessera' ? ['if-match', 'queue'] as const : [undefined]) {
        const run: LostUpdateRun = { system: live.spec.id };
        lostUpdate.push(run);
        if (!usable(live)) {
          run.skipped = live.skipped;
          continue;
        }
        try {
          const result = await load.run(
            { kind: 'lost-update', url: live.server!.url, adapter: live.spec.adapter, token: live.token, increments: config.lostUpdates, mode },
            180_000,
          );
          if ('skipped' in result) run.skipped = result.skipped;
          else if ('lost' in result) run.result = result;
        } catch (err) {
          run.skipped = `failed: ${(err as Error).message.split('\n')[0]}`;
        }
        log(
          `lost-update ${live.spec.label.padEnd(34)} ${mode ? `(${mode}) ` : ''}` +
            (run.result
              ? `${run.result.lost} of ${run.result.increments} lost (final ${run.result.final}, ${run.result.retries} retries, ` +
                `${run.result.failed} failed${run.result.failed ? ` ${JSON.stringify(run.result.failures)}` : ''})`
              : `skipped: ${run.skipped}`),
        );
      }
    }
  }

  // 6. Peak RSS: read before anything is stopped.
  for (const live of lives) {
    if (live.server && !live.server.died) live.peakRssKiB = peakRssKiB(live.server.pid);
    if (live.redis) live.storePeakRssKiB = peakRssKiB(live.redis.pid);
  }
  await load.stop();
  load = undefined;
  for (const live of lives) {
    if (!live.subscriber) continue;
    log(`${live.spec.label}: its event stream subscriber read ${live.subscriber.events} events`);
    live.subscriber.abort.abort();
  }
  await stopAll();

  // 5. Expiry sweep: Tessera's store driven in a process of its own, servers already stopped.
  const sweeps: SweepRun[] = [];
  if (config.workloads.includes('sweep')) {
    for (const live of lives) {
      if (stopping) return 130;
      // The store alone: a server's workers do not change it, so each store is swept once.
      if (live.spec.adapter !== 'tessera' || ('tessera' in live.spec.launch && live.spec.launch.workers)) continue;
      const run: SweepRun = { system: live.spec.id };
      sweeps.push(run);
      if (live.skipped && !measurements.some((m) => m.system === live.spec.id && m.result)) {
        run.skipped = live.skipped;
      } else {
        Object.assign(run, await runSweep(live));
      }
      log(
        `sweep       ${live.spec.label.padEnd(34)} ` +
          (run.result
            ? run.result.map((x) => `${x.stored} stored: ${x.removed} removed in ${x.sweepMs.toFixed(1)} ms`).join('; ')
            : `skipped: ${run.skipped}`),
      );
    }
  }

  const systems: SystemReport[] = lives.map((l) => ({
    id: l.spec.id,
    label: l.spec.label,
    status: l.skipped && !measurements.some((m) => m.system === l.spec.id && m.result) ? 'skipped' : 'ran',
    reason: l.skipped,
    peakRssKiB: l.peakRssKiB,
    storePeakRssKiB: l.storePeakRssKiB,
  }));
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      commit,
      command: envCommand(),
      durationS: config.durationS,
      warmupS: config.warmupS,
      rounds: config.rounds,
      connections: config.connections,
      notes,
    },
    systems,
    measurements,
    summary: summarize(measurements, config.systems, httpWorkloads, systems),
    holds,
    lostUpdate,
    expirySweep: sweeps,
  };
  const text = markdown(results);
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(BENCH_DIR, 'results', 'latest.md'), text);
  process.stdout.write(`\n${text}\n`);
  log(`wrote bench/results/latest.json and bench/results/latest.md in ${Math.round((Date.now() - started) / 1000)} s`);
  return 0;
}

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await cleanup();
    process.exit(1);
  },
);
