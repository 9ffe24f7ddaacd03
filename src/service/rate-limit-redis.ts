import { Cluster, Redis } from 'ioredis';
import { redisNodes } from '../store/open.js';

/**
 * A Redis connection for the HTTP rate limits (@fastify/rate-limit's Redis
 * store), to the Redis of the store URL, so every node of a deployment counts
 * the same requests; null for `memory:` and SQLite (one process: the
 * limiter's own in-process counters). Its keys are `PREFIX:ratelimit:...`.
 *
 * It fails fast while Redis is down (no offline queue, one try): the limiter
 * then lets the request through (skipOnError) and the store answers
 * STORE_UNAVAILABLE as it does for everything else.
 */
export function rateLimitRedis(storeUrl: string): { redis: Redis | Cluster; nameSpace: string } | null {
  const cluster = storeUrl.startsWith('redis-cluster://');
  if (!cluster && !storeUrl.startsWith('redis://')) return null;
  const { nodes, prefix } = redisNodes(storeUrl.slice(cluster ? 'redis-cluster://'.length : 'redis://'.length), cluster);
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, lazyConnect: false };
  const redis = cluster
    ? new Cluster(nodes, { enableOfflineQueue: false, redisOptions: options })
    : new Redis({ ...nodes[0], ...options });
  redis.on('error', () => { /* reported by the store's own connection; the limiter skips while Redis is down */ });
  return { redis, nameSpace: `${prefix ?? 'tessera'}:ratelimit:` };
}
