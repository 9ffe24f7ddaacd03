// The load process. It is forked by run.ts, so it never shares a process (or
// an event loop) with a server under test; it takes one job at a time over the
// IPC channel and exits when its parent goes away.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { ADAPTERS, createTesseraSession, nextKey, type Adapter, type ConnState, type Ctx } from './adapters.js';
import { assertLoopback, call, describe, keepAliveAgent, parseJson, percentile, type Reply } from './http.js';
import { childPids } from './procs.js';
import type {
  HoldsRaceJob,
  HoldsRaceResult,
  HttpLoadJob,
  HttpLoadResult,
  Job,
  JobResult,
  LostUpdateJob,
  LostUpdateResult,
  Request,
  Response,
  Skipped,
} from './protocol.js';

// /proc reports CPU time in clock ticks; Linux has used 100 per second on every common platform for decades.
const CLOCK_TICKS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const is2xx = (s: number) => s >= 200 && s < 300;
const count = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

function sortedPercentiles(values: number[]): { p50: number; p99: number; mean: number } {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.length ? sum / sorted.length : NaN };
}

/** Runs `tasks` with at most `limit` of them in flight. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

// ---------------------------------------------------------------- http-load

async function httpLoad(job: HttpLoadJob): Promise<HttpLoadResult | Skipped> {
  const base = assertLoopback(job.url);
  const agent = keepAliveAgent(job.connections);
  const ctx: Ctx = { base, agent, token: job.token };
  const adapter = ADAPTERS[job.adapter];
  const shape = adapter.shape(job.workload);
  try {
    // One request of the workload first: a route the server does not have yet
    // is a skip with its answer as the reason, not a run of 404s.
    let probeState: ConnState;
    try {
      probeState = await adapter.prepare(ctx, job.workload);
    } catch (err) {
      return { skipped: `could not set up a session: ${(err as Error).message}` };
    }
    const probe = await call(agent, base, shape.method, shape.path, probeState.headers, probeState.body);
    if (!is2xx(probe.status)) return { skipped: `${shape.method} ${shape.path} answered ${describe(probe)}` };

    let warmupRps = 0;
    if (job.warmupS > 0) warmupRps = (await cannon(ctx, adapter, job, job.warmupS)).rps;
    return { ...(await cannon(ctx, adapter, job, job.durationS)), warmupRps };
  } finally {
    agent.destroy();
  }
}

async function cannon(ctx: Ctx, adapter: Adapter, job: HttpLoadJob, seconds: number): Promise<HttpLoadResult> {
  // Every connection gets a session of its own, fresh for each run.
  const states = await pool(job.connections, job.connections, () => adapter.prepare(ctx, job.workload));
  const shape = adapter.shape(job.workload);
  const latencies: number[] = [];
  let ok = 0;
  let nextState = 0;
  let credentialChanges = 0;
  const cpuBefore = cpuSample(job.cpuPids);

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL(shape.path, ctx.base).href,
        method: shape.method,
        connections: job.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        setupClient(client) {
          const state = states[nextState++ % states.length];
          client.setHeadersAndBody(state.headers, state.body);
          // Fired once the head of a response is in, before the client sends its
          // next request: pick up a rotated key / new cookie for that request.
          client.on('headers', (info: unknown) => {
            const { statusCode, headers } = info as { statusCode: number; headers: string[] };
            const before = state.headers;
            if (adapter.update(job.workload, state, statusCode, headers)) {
              client.setHeadersAndBody(state.headers, state.body);
              if (state.headers !== before) credentialChanges++;
            }
          });
        },
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (is2xx(statusCode)) {
        ok++;
        latencies.push(responseTime);
      }
    });
  });

  const cpuAfter = cpuSample(job.cpuPids);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const { p50, p99, mean } = sortedPercentiles(latencies);
  return {
    rps: ok / result.duration,
    p50,
    p99,
    mean,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes,
    warmupRps: 0,
    credentialChanges,
    cpuUs: cpuBefore && cpuAfter && ok > 0 ? {
      server: (cpuAfter.server - cpuBefore.server) / ok,
      store: cpuAfter.store === undefined ? undefined : (cpuAfter.store - cpuBefore.store!) / ok,
      load: (cpuAfter.load - cpuBefore.load) / ok,
    } : undefined,
  };
}

/**
 * CPU time used so far (user + system, µs) by a process and its live
 * children (a server with workers), from /proc (Linux); null elsewhere.
 */
function processCpuUs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    let us = ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
    for (const child of childPids(pid)) us += processCpuUs(child) ?? 0;
    return us;
  } catch {
    return null;
  }
}

function cpuSample(pids: HttpLoadJob['cpuPids']): { server: number; store?: number; load: number } | null {
  if (!pids) return null;
  const server = processCpuUs(pids.server);
  const store = pids.store === undefined ? undefined : processCpuUs(pids.store);
  if (server === null || store === null) return null;
  const own = process.cpuUsage();
  return { server, store, load: own.user + own.system };
}

// -------------------------------------------------------------- lost-update

async function lostUpdate(job: LostUpdateJob): Promise<LostUpdateResult | Skipped> {
  const base = assertLoopback(job.url);
  // One socket per increment: they really are concurrent.
  const agent = keepAliveAgent(job.increments);
  const ctx: Ctx = { base, agent, token: job.token };
  try {
    if (job.adapter === 'peer') return await lostUpdatePeer(ctx, job.increments);
    if (job.adapter === 'tessera') return await lostUpdateTessera(ctx, job.increments, job.mode ?? 'if-match');
    return { skipped: 'the baseline keeps no state' };
  } finally {
    agent.destroy();
  }
}

async function lostUpdatePeer(ctx: Ctx, n: number): Promise<LostUpdateResult> {
  const { headers } = await ADAPTERS.peer.prepare(ctx, 'write');
  const started = Date.now();
  const replies = await Promise.allSettled(
    Array.from({ length: n }, () => call(ctx.agent, ctx.base, 'POST', '/counter', headers)),
  );
  const elapsedMs = Date.now() - started;
  const failures: Record<string, number> = {};
  let acknowledged = 0;
  for (const r of replies) {
    if (r.status === 'fulfilled' && is2xx(r.value.status)) acknowledged++;
    else count(failures, r.status === 'fulfilled' ? String(r.value.status) : String(r.reason?.code ?? 'error'));
  }
  const last = await call(ctx.agent, ctx.base, 'GET', '/session', headers);
  const final = parseJson(last)?.n;
  if (typeof final !== 'number') throw new Error(`GET /session answered ${describe(last)}`);
  return {
    increments: n,
    final,
    lost: acknowledged - final,
    retries: 0,
    failed: n - acknowledged,
    failures,
    elapsedMs,
    method: 'n concurrent POST /counter with one cookie (server loads, increments, saves)',
  };
}

/**
 * Tessera's counter: a GET then a PUT of value + 1. With If-Match, a PUT that
 * lost the race answers 412 and is retried; with the queue alone the two
 * requests are each served whole, one at a time, but another increment may
 * run between them: that is what If-Match is for.
 */
async function lostUpdateTessera(ctx: Ctx, n: number, mode: 'if-match' | 'queue'): Promise<LostUpdateResult | Skipped> {
  let session: { id: string; key: string };
  try {
    session = await createTesseraSession(ctx, { rotation: 'on-privilege-change' });
  } catch (err) {
    return { skipped: (err as Error).message };
  }
  let key = session.key;
  const path = '/v1/session/records/counter';
  const send = async (method: string, extra: Record<string, string>, body?: string): Promise<Reply> => {
    const reply = await call(ctx.agent, ctx.base, method, path, {
      authorization: `Bearer ${ctx.token}`,
      'content-type': 'application/json',
      'session-id': session.id,
      'session-key': key,
      ...extra,
    }, body);
    key = nextKey(reply.headers, key);
    return reply;
  };

  const init = await send('PUT', { 'if-match': '0' }, '{"value":0}');
  if (!is2xx(init.status)) return { skipped: `PUT ${path} answered ${describe(init)}` };

  let retries = 0;
  let failed = 0;
  let acknowledged = 0;
  const failures: Record<string, number> = {};
  const started = Date.now();
  const deadline = started + 120_000;
  await Promise.all(
    Array.from({ length: n }, async () => {
      let why = 'deadline';
      try {
        for (let attempt = 0; Date.now() < deadline; attempt++) {
          const got = await send('GET', {});
          const record = parseJson(got);
          if (got.status !== 200 || typeof record?.value !== 'number') {
            why = `GET ${got.status}`;
            break;
          }
          const put = await send('PUT', mode === 'if-match' ? { 'if-match': String(record.version) } : {},
            JSON.stringify({ value: record.value + 1 }));
          if (put.status === 200) return void acknowledged++;
          if (put.status !== 412) {
            why = `PUT ${put.status}`;
            break;
          }
          retries++;
          // Jittered backoff: losers spread out instead of re-colliding in lockstep.
          await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
        }
      } catch (err) {
        why = String((err as NodeJS.ErrnoException).code ?? 'error');
      }
      failed++;
      count(failures, why);
    }),
  );
  const elapsedMs = Date.now() - started;
  const last = await send('GET', {});
  const final = parseJson(last)?.value;
  if (typeof final !== 'number') {
    throw new Error(`the final GET ${path} answered ${describe(last)}; the ${failed} failed increments: ${JSON.stringify(failures)}`);
  }
  return {
    increments: n,
    final,
    lost: acknowledged - final,
    retries,
    failed,
    failures,
    elapsedMs,
    method: mode === 'if-match'
      ? 'n concurrent GET + PUT with If-Match = the version read, retried on 412 (rotation on-privilege-change)'
      : 'n concurrent GET + PUT without If-Match: only the per-session queue (rotation on-privilege-change)',
  };
}

// --------------------------------------------------------------- holds race

async function holdsRace(job: HoldsRaceJob): Promise<HoldsRaceResult | Skipped> {
  const base = assertLoopback(job.url);
  const agent = keepAliveAgent(job.connections);
  const ctx: Ctx = { base, agent, token: job.token };
  try {
    const auth = { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' };
    type Buyer = { id: string; key: string };
    const send = async (buyer: Buyer, method: string, path: string, body?: unknown): Promise<Reply> => {
      const reply = await call(agent, base, method, path, { ...auth, 'session-id': buyer.id, 'session-key': buyer.key },
        body === undefined ? undefined : JSON.stringify(body));
      buyer.key = nextKey(reply.headers, buyer.key);
      return reply;
    };

    // A probe first: a server that refuses holds skips the workload with its answer as the reason.
    const prober: Buyer = await createTesseraSession(ctx, {});
    const probe = await send(prober, 'POST', '/v1/session/holds', { resources: [`probe:${job.event}`] });
    if (probe.status !== 201) return { skipped: `POST /v1/session/holds answered ${describe(probe)}` };
    await send(prober, 'DELETE', '/v1/session/holds');

    // Sessions first (not timed), then every buyer races at once.
    const buyers = await pool(job.buyers, job.connections, () => createTesseraSession(ctx, {}));
    const salesBySeat = new Map<string, number>();
    const otherStatuses: Record<string, number> = {};
    const latencies: number[] = [];
    let conflicts = 0;
    let requests = 0;
    const record = (reply: Reply) => {
      requests++;
      latencies.push(reply.ms);
      return reply;
    };
    const other = (reply: Reply) => count(otherStatuses, String(reply.status));

    const started = Date.now();
    await pool(buyers.length, job.connections, async (i) => {
      const buyer = buyers[i];
      const tried = new Set<number>();
      for (let attempt = 0; attempt < job.attemptsPerBuyer && tried.size < job.seats; attempt++) {
        let n: number;
        do n = Math.floor(Math.random() * job.seats); while (tried.has(n));
        tried.add(n);
        const seat = `seat:${job.event}:${n}`;
        const hold = record(await send(buyer, 'POST', '/v1/session/holds', { resources: [seat] }));
        if (hold.status === 409) { conflicts++; continue; }
        if (hold.status !== 201) { other(hold); return; }
        const confirm = record(await send(buyer, 'POST', '/v1/session/holds/confirm', { resources: [seat] }));
        if (confirm.status === 200) {
          salesBySeat.set(seat, (salesBySeat.get(seat) ?? 0) + 1);
          return;
        }
        if (confirm.status === 409) { conflicts++; continue; }
        other(confirm);
        return;
      }
    });
    const elapsedMs = Date.now() - started;
    let sold = 0;
    for (const count of salesBySeat.values()) sold += count;
    const { p50, p99 } = sortedPercentiles(latencies);
    return {
      buyers: job.buyers,
      seats: job.seats,
      sold,
      distinctSeats: salesBySeat.size,
      oversold: sold - salesBySeat.size,
      conflicts,
      otherStatuses,
      requests,
      elapsedMs,
      rps: requests / (elapsedMs / 1000),
      p50,
      p99,
    };
  } catch (err) {
    return { skipped: `holds race could not run: ${(err as Error).message}` };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------- main loop

function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'http-load':
      return httpLoad(job);
    case 'lost-update':
      return lostUpdate(job);
    case 'holds-race':
      return holdsRace(job);
  }
}

if (!process.send) {
  console.error('bench/load.ts is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
process.on('message', (message: Request) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, ok: true, result } satisfies Response),
    (err: unknown) =>
      process.send!({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Response),
  );
});
