import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TesseraConfig } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { parseRedisUrl } from '../store/open.js';
import { rateLimitRedis } from '../store/redis/rate-limit.js';

/**
 * Request rate limits (@fastify/rate-limit): `rateLimit.max` requests per
 * `rateLimit.window` seconds on every route, per client and source address
 * (the pair: a client token used from many addresses gets a budget at each,
 * and an address gets one per client); session creation and login have their
 * own, lower budgets (`rateLimitFor` on those routes). Over it: 429
 * RATE_LIMITED with Retry-After (seconds). On Redis the counters are in the
 * store's Redis, shared by every node; on memory: and SQLite (one process) in
 * the process. The counter key is a keyed hash of the pair (`counterKey`),
 * never the address or client in clear.
 *
 * Registered after the session hooks (whose onRequest identifies the client)
 * and before the routes: the limiter's hook is a route hook, so it runs after
 * the client is known. A request with a bad token is refused before it is
 * counted (CLIENT_UNAUTHORIZED costs no store step).
 */
export function rateLimits(app: FastifyInstance, config: Readonly<TesseraConfig>, counterKey: (...parts: string[]) => string): void {
  if (!config.rateLimit.enabled) return;
  const redis = parseRedisUrl(config.store);
  const shared = redis ? rateLimitRedis(redis) : null;
  if (shared) app.addHook('onClose', async () => { shared.redis.disconnect(); });
  app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.window * 1000,
    hook: 'onRequest',
    ...(shared ? { redis: shared.redis, nameSpace: shared.nameSpace } : {}),
    skipOnError: true,
    keyGenerator: (request: FastifyRequest) => counterKey(request.client?.id ?? '-', request.ip),
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_request, context) =>
      new TesseraError('RATE_LIMITED', undefined, { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)), limit: context.max }),
  });
}

/** A route's own budget (session creation, login): `max` requests per `rateLimit.window` per client and source address. */
export function rateLimitFor(config: Readonly<TesseraConfig>, max: number): { rateLimit?: { max: number; timeWindow: number } } {
  return config.rateLimit.enabled ? { rateLimit: { max, timeWindow: config.rateLimit.window * 1000 } } : {};
}
