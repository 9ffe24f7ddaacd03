/**
 * Sites under test: the box office (and other small sites) in front of
 * Tessera in-process on SQLite, or in front of a Tessera server on Redis
 * (a real socket, a redis-server of the test's own).
 */
import { tesseraStoreRecords } from '../../src/middleware/express-session.js';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server.js';
import { Tessera, type TesseraEvent } from '../../src/service/tessera.js';
import { createRedisStore } from '../../src/store/redis/index.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import { DEMO_USERS } from '../../examples/box-office/app.js';
import { startRedis, testPrefix, type RedisNode } from './redis.js';

export const SECRET = 'box-office-test-secret-0123456789';
export const APP_TOKEN = 'site-app-token-0123456789abcdef';
export const ADMIN_TOKEN = 'site-admin-token-0123456789abcdef';

/** Where the site's Tessera lives: in-process, or behind an HTTP server (url). */
export interface Backend {
  name: string;
  /** The Tessera service (in this process either way, so tests can watch its events). */
  tessera: Tessera;
  events: TesseraEvent[];
  /** Options for a site: `tessera`, or `url` with tokens. */
  site: { tessera: Tessera } | { url: string; token: string; adminToken: string };
  close(): Promise<void>;
}

export async function sqliteInProcess(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-site-'));
  const tessera = new Tessera({ store: createSqliteStore({ path: join(dir, 'site.db') }), config: { users: DEMO_USERS, records: tesseraStoreRecords() } });
  const events: TesseraEvent[] = [];
  tessera.events.on('event', (e) => events.push(e));
  return {
    name: 'sqlite-in-process', tessera, events, site: { tessera },
    async close() {
      await tessera.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function redisServer(): Promise<Backend> {
  const redis: RedisNode = await startRedis();
  const store = await createRedisStore({ nodes: [{ host: '127.0.0.1', port: redis.port }], prefix: testPrefix() });
  const tessera = new Tessera({
    store,
    config: {
      clients: [{ id: 'site', token: APP_TOKEN, roles: ['app'] }, { id: 'ops', token: ADMIN_TOKEN, roles: ['admin'] }],
      users: DEMO_USERS,
      records: tesseraStoreRecords(),
    },
  });
  const events: TesseraEvent[] = [];
  tessera.events.on('event', (e) => events.push(e));
  const server: FastifyInstance = buildServer(tessera);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    name: 'redis-server', tessera, events, site: { url, token: APP_TOKEN, adminToken: ADMIN_TOKEN },
    async close() {
      await server.close();
      await tessera.close();
      await redis.stop();
    },
  };
}

export function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${a.port}`,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
