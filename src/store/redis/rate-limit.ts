import { Cluster, Redis } from 'ioredis';
import type { RedisTarget } from '../open.js';

/**
 * A Redis connection for the HTTP rate limits (@fastify/rate-limit's Redis
 * store), to the Redis of the store URL (`parseRedisUrl`), so every node of a
 * deployment counts the same requests. Its keys are `PREFIX:ratelimit:...`.
 * On `memory:` and SQLite (one process) there is none: the limiter keeps its
 * own in-process counters.
 *
 * It fails fast while Redis is down (no offline queue, one try): the limiter
 * then lets the request through (skipOnError) and the store answers
 * STORE_UNAVAILABLE as it does for everything else.
 */
export function rateLimitRedis(target: RedisTarget): { redis: Redis | Cluster; nameSpace: string } {
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, lazyConnect: false };
  const redis = target.cluster
    ? new Cluster(target.nodes, { enableOfflineQueue: false, redisOptions: options })
    : new Redis({ ...target.nodes[0], ...options });
  redis.on('error', () => { /* reported by the store's own connection; the limiter skips while Redis is down */ });
  return { redis, nameSpace: `${target.prefix}:ratelimit:` };
}
