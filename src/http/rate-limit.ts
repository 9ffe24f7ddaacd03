import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TesseraConfig } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { parseRedisUrl } from '../store/open.js';
import { rateLimitRedis } from '../store/redis/rate-limit.js';

/** The operations with a budget of their own, lower than every route's. */
export type Budget = 'createSession' | 'login';

/** Counts `request` against `budget`; RATE_LIMITED with Retry-After once over it. */
export type BudgetCheck = (budget: Budget, request: FastifyRequest) => Promise<void>;

/**
 * Request rate limits (@fastify/rate-limit): `rateLimit.max` requests per
 * `rateLimit.window` seconds on every route, per client and source address
 * (the pair: a client token used from many addresses gets a budget at each,
 * and an address gets one per client). Session creation and login have their
 * own, lower budgets on top (`rateLimit.createSession`, `rateLimit.login`),
 * counted by the BudgetCheck this answers, whichever door the operation came
 * through (its JSON route or SOAP): one counter per operation, client and
 * source address. Over a limit: 429 RATE_LIMITED with Retry-After (seconds).
 * On Redis the counters are in the store's Redis, shared by every node; on
 * memory: and SQLite (one process) in the process. The counter key is a
 * keyed hash of the pair (`counterKey`), never the address or client in clear.
 *
 * Registered after the session hooks (whose onRequest identifies the client)
 * and before the routes: the limiter's hook is a route hook, so it runs after
 * the client is known. A request with a bad token is refused before it is
 * counted (CLIENT_UNAUTHORIZED costs no store step).
 */
export function rateLimits(app: FastifyInstance, config: Readonly<TesseraConfig>, counterKey: (...parts: string[]) => string): BudgetCheck {
  if (!config.rateLimit.enabled) return async () => {};
  const redis = parseRedisUrl(config.store);
  const shared = redis ? rateLimitRedis(redis) : null;
  if (shared) app.addHook('onClose', async () => { shared.redis.disconnect(); });
  const timeWindow = config.rateLimit.window * 1000;
  const over = (ttl: number, max: number) => new TesseraError('RATE_LIMITED', undefined, { retryAfter: Math.max(1, Math.ceil(ttl / 1000)), limit: max });
  app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow,
    hook: 'onRequest',
    ...(shared ? { redis: shared.redis, nameSpace: shared.nameSpace } : {}),
    skipOnError: true,
    keyGenerator: (request: FastifyRequest) => counterKey(request.client?.id ?? '-', request.ip),
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_request, context) => over(context.ttl, context.max),
  });
  // Made on first use: the plugin's createRateLimit exists once the plugin has loaded.
  let limiters: Record<Budget, ReturnType<FastifyInstance['createRateLimit']>> | null = null;
  return async (budget, request) => {
    limiters ??= {
      createSession: app.createRateLimit({ max: config.rateLimit.createSession, timeWindow, keyGenerator: (r) => counterKey('createSession', r.client?.id ?? '-', r.ip) }),
      login: app.createRateLimit({ max: config.rateLimit.login, timeWindow, keyGenerator: (r) => counterKey('login', r.client?.id ?? '-', r.ip) }),
    };
    const limit = await limiters[budget](request);
    if (!limit.isAllowed && limit.isExceeded) throw over(limit.ttl, limit.max);
  };
}

