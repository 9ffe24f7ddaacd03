import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { manualClock } from '../../src/core/clock.js';
import { buildServer } from '../../src/http/server.js';
import { Tessera } from '../../src/service/tessera.js';
import type { SessionStore } from '../../src/store/contract.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import { createRedisStore } from '../../src/store/redis/index.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import { sharedRedis, sharedRedisCluster, testPrefix } from './redis.js';

export type ManualClock = ReturnType<typeof manualClock>;

type EngineFactory = (clock: ManualClock) => { store: SessionStore; cleanup: () => void } | Promise<{ store: SessionStore; cleanup: () => void }>;

/**
 * Every engine the conformance suite runs against. A factory may be async:
 * the Redis ones start their server once per test file (test/helpers/redis.ts)
 * and give each test its own key prefix, so no test sees another's keys.
 */
export const ENGINES: Record<string, EngineFactory> = {
  memory: (clock) => ({ store: createMemoryStore({ clock }), cleanup: () => {} }),
  sqlite: (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    return { store: createSqliteStore({ path: join(dir, 'test.db'), clock }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  redis: async (clock) => {
    const server = await sharedRedis();
    const store = await createRedisStore({ nodes: [{ host: '127.0.0.1', port: server.port }], prefix: testPrefix(), clock });
    return { store, cleanup: () => {} };
  },
  'redis-cluster': async (clock) => {
    const cluster = await sharedRedisCluster();
    const store = await createRedisStore({ nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), cluster: true, prefix: testPrefix(), clock });
    return { store, cleanup: () => {} };
  },
};

export const TOKENS = { web: 'web-token-0123456789abcdef', shop: 'shop-token-0123456789abcdef', ops: 'ops-token-0123456789abcdef', portal: 'portal-token-0123456789abcdef' };

export const CLIENTS = [
  { id: 'web', token: TOKENS.web, roles: ['app'] },
  { id: 'shop', token: TOKENS.shop, roles: ['app'] },
  { id: 'ops', token: TOKENS.ops, roles: ['admin'] },
  { id: 'portal', token: TOKENS.portal, roles: ['portal'] },
];

export interface Harness {
  engine: string;
  clock: ManualClock;
  tessera: Tessera;
  app: FastifyInstance;
  store: SessionStore;
  close(): Promise<void>;
}

export async function makeHarness(engine: string, config: Record<string, unknown> = {}, logStream?: NodeJS.WritableStream): Promise<Harness> {
  const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
  const { store, cleanup } = await ENGINES[engine](clock);
  const tessera = new Tessera({ config: { clients: CLIENTS, ...config }, store, clock });
  const app = buildServer(tessera, logStream ? { logger: { level: 'trace', stream: logStream }, accessLog: true } : {});
  await app.ready();
  return {
    engine, clock, tessera, app, store,
    async close() {
      await app.close();
      await tessera.close();
      cleanup();
    },
  };
}

/** Runs `fn` against a fresh harness of `engine` and closes it, whatever happens. */
export async function using<T>(engine: string, config: Record<string, unknown>, fn: (h: Harness) => Promise<T>): Promise<T> {
  const h = await makeHarness(engine, config);
  try { return await fn(h); } finally { await h.close(); }
}

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
}

/** A client of one session: sends its credentials and follows the rotating key. */
export class SessionClient {
  id = '';
  key = '';

  constructor(readonly app: FastifyInstance, readonly token: string = TOKENS.web) {}

  static async create(app: FastifyInstance, body?: unknown, token: string = TOKENS.web): Promise<SessionClient> {
    const c = new SessionClient(app, token);
    const res = await send(app, 'POST', '/v1/sessions', { token, body });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    c.id = res.body.id;
    c.key = res.body.key;
    return c;
  }

  /** Sends with the current credentials and keeps the key answered. */
  async req(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await this.send(method, url, body, headers, this.key);
    if (typeof res.headers['session-key'] === 'string') this.key = res.headers['session-key'];
    return res;
  }

  /** Sends with a given key, leaving the tracked key alone. */
  send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, key = this.key): Promise<Answer> {
    return send(this.app, method, url, { token: this.token, body, headers: { 'session-id': this.id, 'session-key': key, ...headers } });
  }
}

export async function send(app: FastifyInstance, method: string, url: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKENS.web}`;
  let payload: string | undefined;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await app.inject({ method: method as 'GET', url, headers, payload });
  let body: unknown = res.body;
  try { body = res.json(); } catch { /* not JSON */ }
  return { status: res.statusCode, body, headers: res.headers as Answer['headers'] };
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'tessera-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
