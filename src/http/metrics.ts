import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Tessera } from '../service/tessera.js';
import { toTesseraError } from './errors.js';
import { clientRoute } from './schemas.js';
import { ADMIN } from './session.js';

/** Pools a scrape reports at most (a label value each). */
const MAX_POOLS = 100;

/** The process metrics prom-client gives, collected once per process (however many servers it runs). */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * GET /metrics (admin clients), Prometheus text by prom-client. Every name
 * is `tessera_*` (`_total` for counters, base units: seconds, bytes) beside
 * prom-client's process metrics; no label holds a session id, a user name,
 * a resource or anything else without bound (routes are patterns, pools are
 * the first MAX_POOLS by name). The figures of the store (sessions, holds,
 * pools) are read when scraped.
 */
export function metricsRoutes(app: FastifyInstance, tessera: Tessera): (api: FastifyInstance) => void {
  const registry = new Registry();
  const registers = [registry];
  const engine = tessera.storeFigures().engine;

  const latency = new FastHistogram('tessera_http_request_duration_seconds', 'Time to answer an HTTP request, by method, route pattern and status.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registry);
  latency.countAs('tessera_http_requests_total', 'HTTP requests answered, by method, route pattern and status.', registry);
  const errors = new Counter({
    name: 'tessera_errors_total', help: 'Error answers by catalogue code.', labelNames: ['code'], registers,
  });
  const steps = new FastHistogram('tessera_store_step_duration_seconds', 'Time of one store step, by step and engine.',
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registry);
  const events = new Counter({
    name: 'tessera_events_total', help: 'Events this node made, by type.', labelNames: ['type'], registers,
  });
  const replays = new Counter({ name: 'tessera_key_replays_total', help: 'Superseded session keys presented (the session was revoked).', registers });
  const loginFailures = new Counter({ name: 'tessera_login_failures_total', help: 'Failed logins (unknown user or wrong password).', registers });
  const throttled = new Counter({ name: 'tessera_login_throttled_total', help: 'Login attempts refused with LOGIN_THROTTLED.', registers });
  const feed = tessera.feed;
  let droppedSeen = 0;
  new Counter({
    name: 'tessera_events_dropped_total', help: 'Events not sent to a subscriber of the event stream that read too slowly.', registers,
    collect() { this.inc(feed.dropped - droppedSeen); droppedSeen = feed.dropped; },
  });
  let lostSeen = 0;
  new Counter({
    name: 'tessera_events_lost_total', help: 'Events that could not be appended to the event log (store unreachable).', registers,
    collect() { this.inc(feed.lost - lostSeen); lostSeen = feed.lost; },
  });
  new Gauge({ name: 'tessera_event_subscribers', help: 'Event stream subscribers connected to this node.', registers, collect() { this.set(feed.subscribers); } });

  const stats = () => tessera.storeFigures().stats;
  let reconnectsSeen = 0;
  if (stats().redisReconnects !== undefined) {
    new Counter({
      name: 'tessera_redis_reconnects_total', help: 'Times the Redis connection started reconnecting.', registers,
      collect() { const n = stats().redisReconnects ?? 0; this.inc(n - reconnectsSeen); reconnectsSeen = n; },
    });
  }
  if (stats().sqliteWalBytes !== undefined) {
    new Gauge({ name: 'tessera_sqlite_wal_bytes', help: 'Size of the SQLite write-ahead log file.', registers, collect() { this.set(stats().sqliteWalBytes ?? 0); } });
  }

  // Each scrape reads the store once, whichever gauges read it.
  let scrape: ReturnType<Tessera['liveFigures']> | null = null;
  const read = () => (scrape ??= tessera.liveFigures(MAX_POOLS));
  new Gauge({
    name: 'tessera_sessions', help: 'Sessions in the store (an expired one until the sweep removes it, within session.sweepInterval).', registers,
    async collect() { this.set((await read()).sessions); },
  });
  new Gauge({
    name: 'tessera_holds', help: 'Holds in the store (an expired one until the sweep reports it).', registers,
    async collect() { this.set((await read()).holds); },
  });
  const poolGauge = (name: string, help: string, pick: (p: { capacity: number; held: number; claimed: number; free: number }) => number) => new Gauge({
    name, help, labelNames: ['pool'], registers,
    async collect() {
      this.reset();
      for (const p of (await read()).pools) this.set({ pool: p.name }, pick(p));
    },
  });
  poolGauge('tessera_pool_capacity', 'Units of a pool.', (p) => p.capacity);
  poolGauge('tessera_pool_held', 'Units of a pool held by live holds.', (p) => p.held);
  poolGauge('tessera_pool_claimed', 'Units of a pool sold (claims).', (p) => p.claimed);
  poolGauge('tessera_pool_free', 'Units of a pool neither held nor claimed.', (p) => p.free);

  tessera.stepObserver = (step, seconds) => steps.observe(step, () => ({ step, engine }), seconds);
  tessera.events.on('event', (e) => {
    events.inc({ type: e.type });
    if (e.type === 'security.key_replayed') replays.inc();
    else if (e.type === 'user.login_failed') loginFailures.inc();
  });

  app.addHook('onError', (_request, _reply, err, done) => {
    const code = toTesseraError(err).code;
    errors.inc({ code });
    if (code === 'LOGIN_THROTTLED') throttled.inc();
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe(`${request.method} ${reply.statusCode} ${route}`,
      () => ({ method: request.method, route, status: String(reply.statusCode) }), reply.elapsedTime / 1000);
    done();
  });

  // The route itself goes where the document sees it (server.ts registers it with the others).
  return (api) => api.get('/metrics', {
    config: { access: ADMIN },
    schema: clientRoute({
      operationId: 'getMetrics', summary: 'Prometheus metrics (text exposition format; docs/operations.md names them)', tags: ['admin'],
      response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } },
    }),
  }, async (_request, reply) => {
    const merged = Registry.merge([processMetrics(), registry]);
    let text: string;
    scrape = null;
    try {
      text = await merged.metrics();
    } catch (e) {
      throw toTesseraError(e);
    } finally {
      scrape = null;
    }
    reply.type(merged.contentType);
    return text;
  });
}

type Series = { labels: Record<string, string>; counts: Float64Array; sum: number; count: number };

/**
 * A histogram for what is observed on every request (the request itself,
 * each store step). prom-client's Histogram validates and hashes its labels
 * on every observation (3 µs here, measured: several per request); this one
 * finds its series by a key its caller builds, makes the labels once per
 * series, and is exported by prom-client's registry like any metric (the
 * shape its own histograms give).
 */
class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(readonly name: string, readonly help: string, private readonly bounds: number[], registry: Registry) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** `key` names the series (one per label set); `labels` makes its labels the first time. */
  observe(key: string, labels: () => Record<string, string>, value: number): void {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: labels(), counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  /** A counter of the observations, by the same labels, as a metric of its own. */
  countAs(name: string, help: string, registry: Registry): void {
    const series = this.series;
    registry.registerMetric({
      name, help, type: 'counter', aggregator: 'sum',
      get: async () => ({ name, help, type: 'counter', aggregator: 'sum', values: [...series.values()].map((s) => ({ labels: s.labels, value: s.count })) }),
      reset: () => {},
    } as unknown as Metric);
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i];
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
}
