import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import { engineScripts, type LuaScript } from './lua.js';
import { redisPrefix } from './prefix.js';

/**
 * The connection of the Redis engine: one ioredis client (standalone or
 * Cluster), the Lua scripts (lua.ts, read and hashed once at start) run by
 * EVALSHA, sent whole by EVAL only when a node answers NOSCRIPT (first use,
 * after a restart or a failover), and the mapping of every driver failure to
 * StoreUnavailableError (503 STORE_UNAVAILABLE).
 *
 * Not ioredis's defineCommand, which does the same EVALSHA-with-fallback: with
 * auto-pipelining, every pipeline copies every defined command onto itself,
 * and with the engine's ~50 scripts that cost 30-90 µs of CPU per pipeline
 * (a pipeline per event-loop turn that sends anything), more than a whole
 * authenticate step.
 */
export interface RedisStoreOptions {
  /** One node (standalone) or the seed nodes of a Cluster. */
  nodes: { host: string; port: number }[];
  /** Redis Cluster. @default false */
  cluster?: boolean;
  /** Prefix of every key: 1 to 64 of A-Z a-z 0-9 _ . : - (redisPrefix). @default 'tessera' */
  prefix?: string;
  /** The store's clock for tests; by default scripts read Redis's TIME. */
  clock?: Clock;
  /** Longest wait for one Redis command (ms); past it the request gets STORE_UNAVAILABLE. @default 2000 */
  commandTimeoutMs?: number;
  /**
   * The durable profile for sales: a confirm (the claim step) answers only
   * once this many replicas have its writes (WAIT), else STORE_UNAVAILABLE.
   * With the primary's `appendfsync always`, its own reply already follows
   * the fsync. Standalone only. @default 0
   */
  waitReplicas?: number;
  /** How long a confirm waits for the replicas (ms), below commandTimeoutMs. @default 1000 */
  waitTimeoutMs?: number;
  /** How long a session's keys outlive its next timeout in Redis, for the sweep to report it (ms). @default 3600000 */
  gcMarginMs?: number;
}

/** A store failure (Redis down, unreachable, too slow): the HTTP layer answers 503 STORE_UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export type Arg = string | number | Buffer;
export type Reply = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const BUCKETS = 16;

/** A small stable hash, to spread index entries over BUCKETS keys (one slot each on Cluster). */
export function bucketOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h % BUCKETS;
}

/** The resource group of a hold name: up to its last ':' (`seat:E1:A12` -> `seat:E1`); a name without ':' is its own group. */
export function groupOf(name: string): string {
  const i = name.lastIndexOf(':');
  return i > 0 ? name.slice(0, i) : name;
}

export class RedisConnection {
  readonly client: Redis | Cluster;
  readonly prefix: string;
  readonly clock: Clock | undefined;
  readonly timeoutMs: number;
  readonly marginMs: number;
  readonly cluster: boolean;
  /** Times the connection (or, on a Cluster, the cluster client) started reconnecting. */
  reconnects = 0;
  private readonly scripts = new Map<string, LuaScript & { sha: string }>();
  private closed = false;
  private refresher: NodeJS.Timeout | undefined;

  constructor(readonly options: RedisStoreOptions) {
    this.prefix = redisPrefix(options.prefix);
    this.clock = options.clock;
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
    this.marginMs = options.gcMarginMs ?? 3_600_000;
    this.cluster = options.cluster ?? false;
    const common = {
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      enableAutoPipelining: true,
    };
    this.client = this.cluster
      ? new Cluster(options.nodes, {
        redisOptions: common,
        // Queued while a failover or a slots refresh is under way; the deadline below still bounds each call.
        enableOfflineQueue: true,
        clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: this.timeoutMs,
        // Off: ioredis re-arms its own refresh timer when a refresh in flight ends after quit(), which
        // kept a closed client (and its process) alive forever. The timer below does the same job.
        slotsRefreshInterval: 0,
        maxRedirections: 16,
        lazyConnect: true,
        enableAutoPipelining: true,
      })
      : new Redis({
        ...options.nodes[0], ...common,
        // No queue while disconnected: a request fails at once with 503, never waits for a Redis that is gone.
        enableOfflineQueue: false,
        retryStrategy: (times) => Math.min(100 * times, 1000),
      });
    for (const lua of engineScripts().values()) this.scripts.set(lua.name, { ...lua, sha: createHash('sha1').update(lua.lua).digest('hex') });
    this.client.on('error', () => { /* reconnects by itself; requests meanwhile get STORE_UNAVAILABLE */ });
    this.client.on('reconnecting', () => { this.reconnects++; });
    if (this.client instanceof Cluster) {
      // After a failover the promoted replica is found within a second, not at the next MOVED that never comes.
      const cluster = this.client;
      this.refresher = setInterval(() => {
        if (cluster.status === 'ready') cluster.refreshSlotsCache();
      }, 1000).unref();
    }
  }

  async connect(): Promise<void> {
    try {
      await this.deadline(this.client.connect(), 'connect');
    } catch {
      // Not reachable now: the server starts anyway, answers 503 and /readyz fails until Redis is back.
    }
  }

  /**
   * The durable profile: waits until `waitReplicas` replicas have every write
   * this connection made so far (WAIT on the one connection the writes took),
   * or throws StoreUnavailableError. Nothing to wait for without the option.
   */
  async replicated(): Promise<void> {
    const n = this.options.waitReplicas ?? 0;
    if (n === 0 || this.client instanceof Cluster) return;
    const client = this.client;
    const timeout = Math.min(this.options.waitTimeoutMs ?? 1000, Math.max(1, this.timeoutMs - 250));
    const acked = Number(await this.call(() => client.call('WAIT', n, timeout)));
    if (acked < n) throw new StoreUnavailableError(`redis: ${acked} of ${n} replicas acknowledged the write within ${timeout} ms`);
  }

  /** ARGV[1] of every script: the test clock's time, or -1 (the script reads Redis's TIME). */
  now(): string {
    return this.clock ? String(this.clock()) : '-1';
  }

  /** The store's time in Node (for index ranges): the test clock, or Redis's TIME. */
  async time(): Promise<number> {
    if (this.clock) return this.clock();
    const [s, us] = await this.call(() => this.client.time());
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  key(tag: string, suffix: string): string {
    return `${this.prefix}:{${tag}}:${suffix}`;
  }

  /** The hash of a session (`{id}` tag): KEYS[1] of a session's scripts. */
  sessionKey(id: string): string {
    return `${this.prefix}:{${id}}:s`;
  }

  /** Runs the script lua/`name`.lua by EVALSHA (EVAL on NOSCRIPT) on the slot of its first key. */
  run(name: string, keys: string[], args: Arg[]): Promise<Reply> {
    const s = this.scripts.get(name);
    if (!s) return Promise.reject(new Error(`redis: there is no script lua/${name}.lua`));
    if (keys.length !== s.keys) return Promise.reject(new Error(`redis: lua/${name}.lua takes ${s.keys} keys, not ${keys.length}`));
    return this.call(async () => {
      try {
        return await this.client.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (e) {
        if (!String((e as Error)?.message).includes('NOSCRIPT')) throw e;
        return this.client.eval(s.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** Any Redis call: bounded in time, and any failure of the driver becomes StoreUnavailableError. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('redis: the store is closed');
    try {
      // One Redis: ioredis's commandTimeout bounds every command (there is no offline queue to wait in).
      // Cluster: a command may wait in the offline queue during a failover, where no timer runs yet.
      return await (this.cluster ? this.deadline(fn(), 'command') : fn());
    } catch (e) {
      if (e instanceof TesseraError) throw e;
      if (this.client instanceof Cluster) this.client.refreshSlotsCache(); // a master may have moved
      if (e instanceof StoreUnavailableError) throw e;
      throw new StoreUnavailableError(`redis: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  private deadline<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`redis: ${what} timed out after ${this.timeoutMs} ms`)), this.timeoutMs + 250);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  }

  /** Every key matching `pattern`, by SCAN on every master (never KEYS). */
  async scan(pattern: string): Promise<string[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const out: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.call(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
        cursor = next;
        out.push(...keys);
      } while (cursor !== '0');
    }
    return out;
  }

  async ping(): Promise<void> {
    if (this.client instanceof Cluster) {
      const masters = this.client.nodes('master');
      if (masters.length === 0) throw new StoreUnavailableError('redis: no cluster master');
      await Promise.all(masters.map((n) => this.call(() => n.ping())));
      // Every slot must be served: a cluster that lost a master without a replica is not ready.
      const info = await this.call(() => this.client.cluster('INFO')) as string;
      if (!/cluster_state:ok/.test(info)) throw new StoreUnavailableError('redis: cluster state is not ok');
    } else {
      await this.call(() => this.client.ping());
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresher);
    try { await this.deadline(this.client.quit(), 'quit'); } catch { /* gone or stuck: disconnect below */ }
    this.client.disconnect();
  }
}

/**
 * Walks a deadline index (`{x<n>}:<suffix>`, sixteen buckets), bucket by
 * bucket: each due member's own script decides (`visit`). A member still live
 * is rescheduled at its deadline; any other is dropped from the index, if not
 * written again meanwhile (lua/unindex.lua). The transaction and cursor sweeps.
 */
export async function sweepDeadlines<T>(r: RedisConnection, suffix: string, limit: number,
  visit: (member: string) => Promise<{ live: number } | { done: T | null }>): Promise<T[]> {
  const now = await r.time();
  const out: T[] = [];
  for (let b = 0; b < BUCKETS && out.length < limit; b++) {
    const key = r.key(`x${b}`, suffix);
    const due: string[] = await r.call(() => r.client.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit - out.length));
    await Promise.all(Array.from({ length: due.length / 2 }, async (_, i) => {
      const [member, score] = [due[2 * i], due[2 * i + 1]];
      const v = await visit(member);
      if ('live' in v) await r.call(() => r.client.zadd(key, 'XX', v.live, member));
      else {
        await r.run('unindex', [key], [member, score]);
        if (v.done !== null) out.push(v.done);
      }
    }));
  }
  return out;
}
