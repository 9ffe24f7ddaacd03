// Turns the raw measurements into medians, same-round ratios and markdown.
import type { HoldsRaceResult, HttpLoadResult, LostUpdateResult } from './protocol.js';
import type { SweepSize } from './sweep.js';
import { BASELINE, SYSTEMS, WORKLOADS, type SystemId, type Workload } from './registry.js';

export interface Measurement {
  round: number;
  /** Position of the system in that round's order (0 = first). */
  position: number;
  workload: Workload;
  system: SystemId;
  result?: HttpLoadResult;
  skipped?: string;
}

export interface HoldsRun {
  round: number;
  system: SystemId;
  result?: HoldsRaceResult;
  skipped?: string;
}

export interface LostUpdateRun {
  system: SystemId;
  result?: LostUpdateResult;
  skipped?: string;
}

export interface SweepRun {
  system: SystemId;
  result?: SweepSize[];
  skipped?: string;
}

export interface SystemReport {
  id: SystemId;
  label: string;
  status: 'ran' | 'skipped';
  reason?: string;
  /** VmHWM of the server process, KiB. */
  peakRssKiB?: number;
  /** VmHWM of the system's own redis-server, KiB. */
  storePeakRssKiB?: number;
}

export interface Summary {
  workload: Workload;
  system: SystemId;
  rounds: number;
  rps: number;
  p50: number;
  p99: number;
  rpsRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  non2xx: number;
  errors: number;
  /** Median CPU µs per 2xx answer: the server process, and its redis-server (NaN when none or not measured). */
  serverCpuUs: number;
  storeCpuUs: number;
  skipped?: string;
}

export interface Meta {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  commit: string;
  command: string;
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  /** Anything the reader must know about this run (a build warning, ...). */
  notes: string[];
}

export interface Results {
  meta: Meta;
  systems: SystemReport[];
  measurements: Measurement[];
  summary: Summary[];
  holds: HoldsRun[];
  lostUpdate: LostUpdateRun[];
  expirySweep: SweepRun[];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function summarize(
  measurements: Measurement[],
  systems: SystemId[],
  workloads: Workload[],
  reports: SystemReport[] = [],
): Summary[] {
  const out: Summary[] = [];
  for (const workload of workloads) {
    for (const system of systems) {
      const mine = measurements.filter((m) => m.workload === workload && m.system === system);
      const ran = mine.filter((m) => m.result);
      const ratios = { rps: [] as number[], p50: [] as number[], p99: [] as number[] };
      for (const m of ran) {
        const base = measurements.find((b) => b.workload === workload && b.system === BASELINE && b.round === m.round)?.result;
        if (!base) continue;
        ratios.rps.push(m.result!.rps / base.rps);
        ratios.p50.push(m.result!.p50 / base.p50);
        ratios.p99.push(m.result!.p99 / base.p99);
      }
      out.push({
        workload,
        system,
        rounds: ran.length,
        rps: median(ran.map((m) => m.result!.rps)),
        p50: median(ran.map((m) => m.result!.p50)),
        p99: median(ran.map((m) => m.result!.p99)),
        rpsRatio: median(ratios.rps),
        p50Ratio: median(ratios.p50),
        p99Ratio: median(ratios.p99),
        non2xx: ran.reduce((s, m) => s + m.result!.non2xx, 0),
        errors: ran.reduce((s, m) => s + m.result!.errors, 0),
        serverCpuUs: median(ran.map((m) => m.result!.cpuUs?.server ?? NaN)),
        storeCpuUs: median(ran.map((m) => m.result!.cpuUs?.store ?? NaN)),
        skipped:
          ran.length === 0
            ? mine.find((m) => m.skipped)?.skipped ?? reports.find((r) => r.id === system)?.reason ?? 'not run'
            : undefined,
      });
    }
  }
  return out;
}

const label = (id: SystemId) => SYSTEMS.find((s) => s.id === id)?.label ?? id;
const us = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const ratio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');
const mib = (kib?: number) => (kib === undefined ? '–' : (kib / 1024).toFixed(1));
const cell = (s: string) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return (flat.length > 160 ? `${flat.slice(0, 160)}…` : flat).replace(/\|/g, '\\|');
};

export function markdown(r: Results): string {
  const lines: string[] = [];
  const m = r.meta;
  lines.push('## Benchmarks');
  lines.push('');
  lines.push(
    `Measured with \`${m.command}\` on ${m.date.slice(0, 10)}: Node ${m.node}, ${m.cores} × ${m.cpu}, ` +
      `commit ${m.commit}. Load from autocannon in a separate process over 127.0.0.1, ${m.connections} keep-alive ` +
      `connections, each with its own session; ${m.warmupS} s warm-up (not counted) then ${m.durationS} s per ` +
      `measurement; ${m.rounds} round${m.rounds === 1 ? '' : 's'}, the order of the systems reversed every other round. Every ratio is to bare ` +
      `Fastify measured in the same round, and every figure is the median over the rounds. req/s counts 2xx answers only. ` +
      `The load generator, the server and redis-server share the same cores, so absolute figures are low; compare ratios.`,
  );
  for (const note of m.notes) lines.push('', `Note: ${note.length > 300 ? `${note.slice(0, 300)}…` : note}`);
  // A system that never ran is said once here, and left out of every table.
  const notRun = new Set(r.systems.filter((s) => s.status === 'skipped').map((s) => s.id));
  const ran = (id: SystemId) => !notRun.has(id);
  for (const s of r.systems.filter((x) => notRun.has(x.id))) lines.push('', `Not run: ${s.label}: ${cell(s.reason ?? 'unknown reason')}`);
  lines.push('');
  lines.push('### Throughput and latency');
  lines.push('');
  lines.push('| Workload | System | req/s | req/s × baseline | p50 ms | p99 ms | p99 × baseline | server CPU µs/req | redis-server CPU µs/req | non-2xx |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of WORKLOADS) {
    for (const s of r.summary.filter((x) => x.workload === w.id && ran(x.system))) {
      if (s.skipped) {
        lines.push(`| ${w.title} | ${label(s.system)} | skipped: ${cell(s.skipped)} | | | | | | | |`);
        continue;
      }
      const base = s.system === BASELINE;
      lines.push(
        `| ${w.title} | ${label(s.system)} | ${int(s.rps)} | ${base ? '1.00×' : ratio(s.rpsRatio)} | ${ms(s.p50)} | ` +
          `${ms(s.p99)} | ${base ? '1.00×' : ratio(s.p99Ratio)} | ${us(s.serverCpuUs)} | ${us(s.storeCpuUs)} | ${s.non2xx + s.errors} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    'CPU µs/req is the CPU time (user + system, every thread) the process used over the measured run, read from ' +
      '`/proc`, divided by its 2xx answers: what one answer costs, however busy the shared cores were. ' +
      'A system on Redis costs the sum of its two columns.',
  );
  lines.push('');
  lines.push('What was compared with what: the store each system uses and what an answered write survives at the speed measured.');
  lines.push('');
  lines.push('| System | store | durability |');
  lines.push('|---|---|---|');
  for (const s of SYSTEMS.filter((x) => ran(x.id))) lines.push(`| ${s.label} | ${s.conditions.store} | ${s.conditions.durability} |`);
  lines.push('');
  lines.push('What each workload sends (bench/README.md has more):');
  lines.push('');
  for (const w of WORKLOADS) lines.push(`- ${w.title}: Tessera: ${w.tessera}. Peers: ${w.peers}. The baseline gets Tessera's request.`);

  lines.push('');
  lines.push('### 4. Seat race (Tessera only)');
  lines.push('');
  const holdsRan = r.holds.filter((h) => h.result);
  if (holdsRan.length === 0) {
    const reasons = [...new Set(r.holds.filter((h) => ran(h.system)).map((h) => `${label(h.system)}: ${h.skipped}`))];
    lines.push(`Skipped. ${reasons.length ? reasons.join('; ') : 'Not run.'}`);
  } else {
    lines.push('| System | buyers | seats | sold (min) | oversold (max) | 409 conflicts | req/s | p50 ms | p99 ms | race time ms |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const id of [...new Set(holdsRan.map((h) => h.system))]) {
      const runs = holdsRan.filter((h) => h.system === id).map((h) => h.result!);
      lines.push(
        `| ${label(id)} | ${runs[0].buyers} | ${runs[0].seats} | ${Math.min(...runs.map((x) => x.sold))} | ` +
          `${Math.max(...runs.map((x) => x.oversold))} | ${int(median(runs.map((x) => x.conflicts)))} | ` +
          `${int(median(runs.map((x) => x.rps)))} | ${ms(median(runs.map((x) => x.p50)))} | ` +
          `${ms(median(runs.map((x) => x.p99)))} | ${int(median(runs.map((x) => x.elapsedMs)))} |`,
      );
    }
  }

  lines.push('');
  lines.push('### 5. Expiry sweep (Tessera only)');
  lines.push('');
  const sweepsRan = r.expirySweep.filter((x) => x.result);
  if (r.expirySweep.length === 0) lines.push('Not selected (BENCH_WORKLOADS).');
  if (sweepsRan.length) {
    lines.push(
      "The store alone (dist/store, no HTTP), seeded with N sessions of which some idle out 1 s after they are stored; once they have, " +
        "`sweepExpired(1000)` called until it finds nothing. If the cost follows what expired and not what is " +
        'stored, the sweep times of the two sizes are close.',
      '',
    );
    lines.push('| System | stored | expired | removed | sweep ms | sweep CPU ms (this process) | µs per expired session | empty sweep ms | × smallest size |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of sweepsRan) {
      const sizes = x.result!;
      const smallest = sizes.reduce((a, b) => (b.stored < a.stored ? b : a));
      for (const size of sizes) {
        lines.push(
          `| ${label(x.system)} | ${int(size.stored)} | ${int(size.expired)} | ${int(size.removed)} | ${ms(size.sweepMs)} | ${ms(size.sweepCpuMs ?? NaN)} | ` +
            `${((size.sweepMs * 1000) / Math.max(1, size.removed)).toFixed(1)} | ${ms(size.idleSweepMs)} | ${ratio(size.sweepMs / smallest.sweepMs)} |`,
        );
      }
    }
  }
  for (const x of r.expirySweep.filter((x) => !x.result && ran(x.system))) {
    lines.push('', `${label(x.system)}: skipped: ${cell(x.skipped ?? '')}`);
  }

  lines.push('');
  lines.push('### 6. Peak memory (VmHWM after the run)');
  lines.push('');
  lines.push('| System | server process MiB | × baseline | its redis-server MiB |');
  lines.push('|---|---:|---:|---:|');
  const baseRss = r.systems.find((s) => s.id === BASELINE)?.peakRssKiB;
  for (const s of r.systems.filter((x) => ran(x.id))) {
    const x = s.peakRssKiB !== undefined && baseRss ? s.peakRssKiB / baseRss : NaN;
    lines.push(`| ${s.label} | ${mib(s.peakRssKiB)} | ${ratio(x)} | ${s.storePeakRssKiB === undefined ? 'none' : mib(s.storePeakRssKiB)} |`);
  }

  lines.push('');
  lines.push('### Lost updates');
  lines.push('');
  lines.push('Not the same mechanism on both sides: the peers have none (each request loads the session, changes it and saves it ' +
    'whole, so concurrent requests overwrite each other); Tessera is measured twice, with `If-Match` (a conditional write, ' +
    'retried on `412`) and without it (only its per-session queue, which orders the requests but cannot order a client\'s ' +
    'separate GET and PUT: it loses as many as the peers).');
  lines.push('');
  lines.push('| System | method | concurrent increments | final counter | lost | 412 retries | failed | time ms |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const l of r.lostUpdate.filter((x) => ran(x.system))) {
    if (!l.result) {
      lines.push(`| ${label(l.system)} | skipped: ${cell(l.skipped ?? '')} | | | | | | |`);
      continue;
    }
    const x = l.result;
    const failed = x.failed ? `${x.failed} (${Object.entries(x.failures).map(([k, v]) => `${k}: ${v}`).join(', ')})` : '0';
    lines.push(
      `| ${label(l.system)} | ${cell(x.method)} | ${x.increments} | ${x.final} | **${x.lost}** | ${x.retries} | ${failed} | ${int(x.elapsedMs)} |`,
    );
  }
  lines.push('');
  lines.push(goalsMarkdown(r));
  return lines.join('\n');
}

// ------------------------------------------------------------------ goals (issue 17)

/** The system Tessera is measured against: what a Fastify user would pick instead. */
export const PEER: SystemId = 'fastify-session';

export interface Goal {
  /** What is measured, e.g. "keep-alive: CPU per answer, Tessera (SQLite) / peer". */
  what: string;
  /** The figure as measured (a ratio or an absolute value), NaN when not measured. */
  figure: number;
  /** How the figure is printed: '×' for a ratio, else the unit. */
  unit: '×' | 'µs' | 'MiB';
  /** The bound, and on which side the figure must stay. */
  bound: number;
  atMost: boolean;
  /** Why the goal could not be judged (a system or workload not run). */
  missing?: string;
}

const cpuTotal = (x?: HttpLoadResult) => (x?.cpuUs ? x.cpuUs.server + (x.cpuUs.store ?? 0) : NaN);

/**
 * The figure of one system against the peer's, round by round (both measured in
 * the same round), then the median over the rounds.
 */
function roundRatio(r: Results, workload: Workload, system: SystemId, pick: (x: HttpLoadResult) => number): number {
  const ratios: number[] = [];
  for (const m of r.measurements.filter((x) => x.workload === workload && x.system === system && x.result)) {
    const peer = r.measurements.find((x) => x.workload === workload && x.system === PEER && x.round === m.round)?.result;
    if (peer) ratios.push(pick(m.result!) / pick(peer));
  }
  return median(ratios);
}

/** Every goal of issue 17 that this run measured enough to judge, met or not. */
export function goals(r: Results): Goal[] {
  const out: Goal[] = [];
  const ranHttp = (w: Workload, s: SystemId) => r.measurements.some((m) => m.workload === w && m.system === s && m.result);
  const peerLabel = 'peer';
  const add = (g: Goal, need: SystemId[], w?: Workload) => {
    const absent = need.filter((s) => (w ? !ranHttp(w, s) : !r.systems.some((x) => x.id === s && x.status === 'ran')));
    out.push(absent.length ? { ...g, figure: NaN, missing: `${absent.map(label).join(', ')} not run` } : g);
  };
  for (const w of WORKLOADS) {
    const t = w.title.replace(/^\d+\.\s*/, '');
    add({ what: `${t}: CPU per answer, Tessera (SQLite) / ${peerLabel} (server + redis-server)`, figure: roundRatio(r, w.id, 'tessera-sqlite', cpuTotal), unit: '×', bound: 0.75, atMost: true }, ['tessera-sqlite', PEER], w.id);
    add({ what: `${t}: req/s, Tessera (SQLite) / ${peerLabel}`, figure: roundRatio(r, w.id, 'tessera-sqlite', (x) => x.rps), unit: '×', bound: 1.3, atMost: false }, ['tessera-sqlite', PEER], w.id);
    add({ what: `${t}: CPU per answer, Tessera (Redis) / ${peerLabel} (each server + its redis-server)`, figure: roundRatio(r, w.id, 'tessera-redis', cpuTotal), unit: '×', bound: 1.0, atMost: true }, ['tessera-redis', PEER], w.id);
    if (w.id !== 'create') {
      const s = r.summary.find((x) => x.workload === w.id && x.system === 'tessera-redis');
      add({ what: `${t}: redis-server CPU per answer, Tessera (Redis)`, figure: s?.storeCpuUs ?? NaN, unit: 'µs', bound: 10, atMost: true }, ['tessera-redis'], w.id);
    }
    for (const s of ['tessera-sqlite', 'tessera-redis'] as SystemId[]) {
      add({ what: `${t}: p99, ${label(s)} / ${peerLabel}`, figure: roundRatio(r, w.id, s, (x) => x.p99), unit: '×', bound: 1.0, atMost: true }, [s, PEER], w.id);
    }
  }
  const rss = (id: SystemId) => r.systems.find((s) => s.id === id)?.peakRssKiB;
  for (const s of ['tessera-sqlite', 'tessera-redis'] as SystemId[]) {
    const mine = rss(s);
    const peer = rss(PEER);
    add({ what: `peak RSS of the server process, ${label(s)} / ${peerLabel}'s`, figure: mine && peer ? mine / peer : NaN, unit: '×', bound: 1.0, atMost: true }, [s, PEER]);
  }
  for (const s of ['tessera-sqlite', 'tessera-redis'] as SystemId[]) {
    const sizes = r.expirySweep.find((x) => x.system === s)?.result;
    const big = sizes?.reduce((a, b) => (b.stored > a.stored ? b : a));
    const small = sizes?.reduce((a, b) => (b.stored < a.stored ? b : a));
    // On SQLite the sweep's whole cost is this process's CPU, steadier than wall time on a shared machine;
    // on Redis most of it is in redis-server, so wall time it is.
    const cpu = s === 'tessera-sqlite' && big?.sweepCpuMs !== undefined && small?.sweepCpuMs !== undefined;
    const g: Goal = {
      what: `expiry sweep, ${label(s)}: ${big ? int(big.stored) : 'largest'} stored / ${small ? int(small.stored) : 'smallest'} stored (${cpu ? 'CPU' : 'wall'} time)`,
      figure: big && small && big !== small ? (cpu ? big.sweepCpuMs! / small.sweepCpuMs! : big.sweepMs / small.sweepMs) : NaN, unit: '×', bound: 1.2, atMost: true,
    };
    out.push(Number.isFinite(g.figure) ? g : { ...g, missing: 'sweep not run at two sizes' });
  }
  return out;
}

export function goalsMarkdown(r: Results): string {
  const lines = ['### Goals (issue 17)', '', `Against the peer, ${label(PEER)}, measured in the same rounds (a ratio is taken round by round, then the median).`, ''];
  lines.push('| goal | figure | bound | met |');
  lines.push('|---|---:|---:|---|');
  const show = (n: number, unit: Goal['unit']) => (!Number.isFinite(n) ? '–' : unit === '×' ? `${n.toFixed(2)}×` : `${n.toFixed(1)} ${unit}`);
  let met = 0;
  let judged = 0;
  for (const g of goals(r)) {
    const ok = Number.isFinite(g.figure) ? (g.atMost ? g.figure <= g.bound : g.figure >= g.bound) : undefined;
    if (ok !== undefined) judged++;
    if (ok) met++;
    lines.push(`| ${g.what} | ${show(g.figure, g.unit)} | ${g.atMost ? '≤' : '≥'} ${show(g.bound, g.unit)} | ${ok === undefined ? `not measured (${g.missing})` : ok ? 'yes' : '**no**'} |`);
  }
  lines.push('', `${met} of ${judged} measured goals met.`, '');
  return lines.join('\n');
}
