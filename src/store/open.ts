import { ConfigError } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import type { SessionStore } from './contract.js';
import { createMemoryStore } from './memory/index.js';
import { redisPrefix } from './redis/prefix.js';

/** A Redis store URL, parsed: its nodes, its key prefix (`tessera` unless named) and the durable profile's WAIT. */
export interface RedisTarget {
  cluster: boolean;
  nodes: { host: string; port: number }[];
  prefix: string;
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

/** A store URL, parsed (`parseStoreUrl`). */
export type StoreTarget =
  | { engine: 'memory' }
  | { engine: 'sqlite'; path: string; synchronous: 'normal' | 'full' }
  | ({ engine: 'redis' } & RedisTarget);

/**
 * Opens a store from its URL: `memory:`, `sqlite:PATH` (add `?synchronous=full`
 * for the durable profile), `redis://HOST:PORT` and
 * `redis-cluster://HOST:PORT,HOST:PORT,...` (add `?prefix=NAME` for another key
 * prefix than `tessera`). Engines are imported only when used.
 */
export async function openStore(url: string, options: { clock?: Clock } = {}): Promise<SessionStore> {
  const target = parseStoreUrl(url);
  switch (target.engine) {
    case 'memory':
      return createMemoryStore(options);
    case 'sqlite': {
      const { createSqliteStore } = await import('./sqlite/index.js');
      return createSqliteStore({ path: target.path, synchronous: target.synchronous, ...options });
    }
    case 'redis': {
      const { engine: _, ...redis } = target;
      const { createRedisStore } = await import('./redis/index.js');
      return createRedisStore({ ...redis, ...options });
    }
  }
}

/** The one reading of a store URL (openStore, the shared rate limits, the CLI's connection probe); ConfigError when it is not one. */
export function parseStoreUrl(url: string): StoreTarget {
  if (url === 'memory:' || url === 'memory://') return { engine: 'memory' };
  if (url.startsWith('sqlite:')) {
    const [path, query = ''] = url.slice('sqlite:'.length).split('?');
    if (!path) throw new ConfigError('store: sqlite: needs a path, as in sqlite:./data/tessera.db');
    const synchronous = new URLSearchParams(query).get('synchronous') ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') throw new ConfigError('store: synchronous must be normal or full');
    return { engine: 'sqlite', path, synchronous };
  }
  const redis = parseRedisUrl(url);
  if (redis) return { engine: 'redis', ...redis };
  throw new ConfigError(`store: unknown store '${url.split(':')[0]}'; use sqlite:PATH, memory:, redis://HOST:PORT or redis-cluster://HOST:PORT,...`);
}

/**
 * A `redis://` or `redis-cluster://` URL, parsed; null for any other scheme.
 * HOST:PORT, comma-separated for a Cluster; `?prefix=`, `?wait=`, `?waitTimeout=` optional.
 */
export function parseRedisUrl(url: string): RedisTarget | null {
  const cluster = url.startsWith('redis-cluster://');
  if (!cluster && !url.startsWith('redis://')) return null;
  const rest = url.slice(cluster ? 'redis-cluster://'.length : 'redis://'.length);
  const [list, query = ''] = rest.replace(/\/$/, '').split('?');
  const params = new URLSearchParams(query);
  for (const k of params.keys()) {
    if (!['prefix', 'wait', 'waitTimeout'].includes(k)) throw new ConfigError(`store: unknown Redis option '${k}' (prefix, wait, waitTimeout)`);
  }
  // The durable profile for sales (docs/outages-and-limits.md): a confirm waits for `wait` replicas (WAIT).
  const wait = params.get('wait');
  if (wait !== null && !/^([0-9]|1[0-6])$/.test(wait)) throw new ConfigError('store: wait is a number of replicas, 0 to 16');
  if (wait !== null && Number(wait) > 0 && cluster) throw new ConfigError('store: wait is for redis:// (one primary and its replicas); on a Cluster use appendfsync always on every master');
  const waitTimeout = params.get('waitTimeout');
  if (waitTimeout !== null && !/^[1-9][0-9]{0,3}$/.test(waitTimeout)) throw new ConfigError('store: waitTimeout is 1 to 9999 ms');
  const prefix = redisPrefix(params.get('prefix') ?? undefined);
  const nodes = list.split(',').map((hp) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new ConfigError(`store: '${hp}' is not HOST:PORT`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
  if (!cluster && nodes.length !== 1) throw new ConfigError('store: redis:// takes one HOST:PORT; use redis-cluster:// for a Cluster');
  return {
    cluster, nodes, prefix,
    ...(wait !== null && Number(wait) > 0 ? { waitReplicas: Number(wait), waitTimeoutMs: Number(waitTimeout ?? 1000) } : {}),
  };
}
