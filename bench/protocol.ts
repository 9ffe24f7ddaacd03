// Messages between the orchestrator (run.ts) and the load process (load.ts).
import type { AdapterKind, HttpWorkload } from './adapters.js';

export interface HttpLoadJob {
  kind: 'http-load';
  url: string;
  adapter: AdapterKind;
  workload: HttpWorkload;
  token?: string;
  connections: number;
  warmupS: number;
  durationS: number;
  /** Processes whose CPU time is read (from /proc) over the measured run: the server, and its redis-server. */
  cpuPids?: { server: number; store?: number };
}

export interface LostUpdateJob {
  kind: 'lost-update';
  url: string;
  adapter: AdapterKind;
  token?: string;
  increments: number;
  /** Tessera: GET + PUT with If-Match retried on 412, or with nothing but the per-session queue. */
  mode?: 'if-match' | 'queue';
}

export interface HoldsRaceJob {
  kind: 'holds-race';
  url: string;
  token: string;
  buyers: number;
  seats: number;
  connections: number;
  /** Seat names are `seat:<event>:<n>`, fresh for each race. */
  event: string;
  attemptsPerBuyer: number;
}

export type Job = HttpLoadJob | LostUpdateJob | HoldsRaceJob;

export interface Skipped {
  skipped: string;
}

export interface HttpLoadResult {
  /** 2xx responses per second over the measured run. */
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
  warmupRps: number;
  /** Answers that carried new session credentials (a rotated key, a new cookie). */
  credentialChanges: number;
  /** CPU time per 2xx answer over the measured run, in µs: the server's, its redis-server's, the load generator's. */
  cpuUs?: { server: number; store?: number; load: number };
}

export interface LostUpdateResult {
  increments: number;
  final: number;
  lost: number;
  /** 412 answers that were retried (Tessera's If-Match loop). */
  retries: number;
  failed: number;
  /** Why the failed increments failed: status (or error) -> count. */
  failures: Record<string, number>;
  elapsedMs: number;
  method: string;
}

export interface HoldsRaceResult {
  buyers: number;
  seats: number;
  sold: number;
  distinctSeats: number;
  oversold: number;
  conflicts: number;
  otherStatuses: Record<string, number>;
  requests: number;
  elapsedMs: number;
  rps: number;
  p50: number;
  p99: number;
}

export type JobResult = HttpLoadResult | LostUpdateResult | HoldsRaceResult | Skipped;

export type Request = { id: number; job: Job };
export type Response = { id: number; ok: true; result: JobResult } | { id: number; ok: false; error: string };
