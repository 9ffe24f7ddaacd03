// 5. Expiry sweep, Tessera-internal: a store holding N sessions of which E have
// expired, and the time for the store's sweepExpired() to remove them. Run for
// two sizes with the same E: if the sweep costs what expired and not what is
// stored, both take about the same time.
//
// It drives the built store (dist/store/open.js) directly, in a process of its
// own; the store API is loaded untyped on purpose, so that a change inside
// src/ turns this workload into a skip with a reason, not a bench that no
// longer typechecks.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface SweepJob {
  /** `sqlite` (a fresh file per size) or a redis URL of the bench's own redis-server. */
  store: string;
  sizes: number[];
  expired: number;
  batch: number;
  /** Give up seeding a size after this long. */
  seedBudgetS: number;
  /** Where the SQLite files go (the bench's scratch directory, removed even if this process is killed). */
  dir: string;
}

export interface SweepSize {
  stored: number;
  expired: number;
  removed: number;
  seedMs: number;
  sweepMs: number;
  /** CPU time of this process's main thread over the sweep (10 ms ticks, from /proc): the sweep's whole cost on SQLite, steadier than sweepMs on a busy machine. */
  sweepCpuMs?: number;
  sweepCalls: number;
  /** A sweep with nothing expired, right after: the cost of looking. */
  idleSweepMs: number;
}

export type SweepOutput = { sizes: SweepSize[] } | { skipped: string };

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

async function openStore(url: string): Promise<any> {
  const file = join(ROOT, 'dist', 'store', 'open.js');
  if (!existsSync(file)) throw new Error('dist/store/open.js does not exist');
  const mod: any = await import(pathToFileURL(file).href);
  if (typeof mod.openStore !== 'function') throw new Error('dist/store/open.js has no openStore()');
  return mod.openStore(url);
}

async function measure(job: SweepJob, stored: number): Promise<SweepSize | string> {
  const dir = mkdtempSync(join(job.dir, 'sweep-'));
  let store: any;
  try {
    store = await openStore(job.store === 'sqlite' ? `sqlite:${join(dir, 'sweep.db')}` : job.store);
    for (const m of ['createSession', 'sweepExpired', 'close']) {
      if (typeof store[m] !== 'function') return `the store has no ${m}()`;
    }
    const keyHash = randomBytes(32);
    const every = Math.max(1, Math.floor(stored / job.expired));
    const prefix = randomBytes(6).toString('base64url');
    let expired = 0;
    const seedStarted = Date.now();
    // Seeded 256 at a time: one round trip (Redis) or one group commit (SQLite) serves many.
    const SEED_CONCURRENCY = 256;
    // The expired ones idle out 1 s after they are stored, as real sessions do (a session stored already
    // expired would be dropped at once by Redis's TTL backstop, and the sweep would find nothing to do).
    let lastDeath = 0;
    const seed = (i: number) => {
      // Expired sessions spread evenly among the live ones.
      const dead = expired < job.expired && i % every === 0;
      if (dead) expired++;
      const createdAt = Date.now();
      const idleTimeout = dead ? 1 : 1800;
      if (dead) lastDeath = createdAt + 1000;
      return store.createSession(
        {
          id: `${prefix}${i.toString(36).padStart(8, '0')}`,
          client: 'bench',
          rotation: 'per-request',
          queue: true,
          idleTimeout,
          lifespan: 43200,
          createdAt,
          lastAccessAt: createdAt,
          nextTimeout: createdAt + idleTimeout * 1000,
          expiresAt: createdAt + 43_200_000,
          user: null,
        },
        keyHash,
      );
    };
    for (let i = 0; i < stored; i += SEED_CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, stored - i) }, (_, j) => seed(i + j)));
      if (i % 10_240 === 0 && Date.now() - seedStarted > job.seedBudgetS * 1000) {
        return `seeding ${stored} sessions did not fit in ${job.seedBudgetS} s (BENCH_SWEEP_SEED_BUDGET); ${i} stored by then`;
      }
    }
    const seedMs = Date.now() - seedStarted;
    await new Promise((r) => setTimeout(r, Math.max(0, lastDeath + 50 - Date.now())));

    let removed = 0;
    let sweepCalls = 0;
    const started = process.hrtime.bigint();
    const cpu0 = mainThreadCpuMs();
    for (;;) {
      sweepCalls++;
      const batch = await store.sweepExpired(job.batch);
      if (!Array.isArray(batch) || batch.length === 0) break;
      removed += batch.length;
    }
    const sweepMs = Number(process.hrtime.bigint() - started) / 1e6;
    const sweepCpuMs = cpu0 === undefined ? undefined : mainThreadCpuMs()! - cpu0;
    const idleStarted = process.hrtime.bigint();
    await store.sweepExpired(job.batch);
    const idleSweepMs = Number(process.hrtime.bigint() - idleStarted) / 1e6;
    return { stored, expired, removed, seedMs, sweepMs, sweepCpuMs, sweepCalls, idleSweepMs };
  } finally {
    await store?.close?.().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU ms of the main thread alone (not SQLite's checkpointer thread, still copying the seeded WAL), or undefined off Linux. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ticks of 10 ms (USER_HZ 100)
  } catch {
    return undefined;
  }
}

async function main(): Promise<SweepOutput> {
  const job = JSON.parse(process.argv[2] ?? '') as SweepJob;
  if (job.store !== 'sqlite' && !/^redis:\/\/127\.0\.0\.1:\d+$/.test(job.store)) {
    return { skipped: `refusing store ${job.store}` };
  }
  const sizes: SweepSize[] = [];
  for (const stored of job.sizes) {
    try {
      const result = await measure(job, stored);
      if (typeof result === 'string') return { skipped: result };
      sizes.push(result);
      process.stderr.write(`sweep: ${stored} stored, ${result.removed} removed in ${result.sweepMs.toFixed(1)} ms (${result.sweepCpuMs?.toFixed(1)} ms of CPU)\n`);
    } catch (err) {
      return { skipped: `the store could not be driven: ${(err as Error).message}` };
    }
  }
  return { sizes };
}

main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stdout.write(`${JSON.stringify({ skipped: `sweep failed: ${(err as Error).message}` })}\n`);
    process.exit(0);
  },
);
