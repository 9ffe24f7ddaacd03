import type { SessionStore } from '../contract.js';
import { BUCKETS, RedisConnection, type RedisStoreOptions } from './client.js';
import { redisCursors } from './cursors.js';
import { redisHolds } from './holds.js';
import { RedisEventLog } from './events.js';
import { RedisQueue } from './queue.js';
import { redisRecords } from './records.js';
import { redisSessions } from './sessions.js';
import { redisTransactions } from './transactions.js';
import { redisUsers } from './users.js';

export { StoreUnavailableError, type RedisStoreOptions } from './client.js';

/**
 * The Redis engine, standalone or Cluster (docs/architecture.md, "Redis"):
 * one file per slice of the contract (sessions, records, holds, users,
 * transactions, cursors), the connection and its scripts (client.ts, lua.ts,
 * lua/), the encoding of what is stored (codec.ts) and the request queue
 * across nodes (queue.ts). Every contract step that must be atomic is one Lua
 * script over the keys of one session (`{id}` hash tag: its records,
 * transactions and cursors) or of one resource group (`{group}`). What spans
 * slots (an index, a user and its sessions, a session and its holds) is a
 * second, idempotent step in a fixed order, chosen so a lag can delay an
 * event or leave an entry for the sweep, never sell a seat twice or keep a
 * session alive.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<SessionStore> {
  const r = new RedisConnection(options);
  await r.connect();
  const queues = new Set<RedisQueue>();
  const logs = new Set<RedisEventLog>();

  // The slices call each other only through these few functions, bound here.
  const sessions = redisSessions(r, {
    releaseHolds: (id, held) => holds.releaseFor(id, held),
    moveHolds: (oldId, newId, held, claimed) => holds.move(oldId, newId, held, claimed),
    indexUser: (name, id) => users.index(name, id),
    unindexUser: (name, id) => users.unindex(name, id),
  });
  const users = redisUsers(r, {
    end: sessions.end,
    setPrivilege: sessions.setPrivilege,
    setRoles: sessions.setRoles,
    get: sessions.steps.getSession,
  });
  const holds = redisHolds(r, {
    expiryOf: async (id) => (await sessions.steps.getSession(id))?.nextTimeout ?? null,
  });

  return {
    kind: r.cluster ? 'redis-cluster' : 'redis',
    ...sessions.steps,
    ...redisRecords(r),
    ...holds.steps,
    ...users.steps,
    ...redisTransactions(r, { releaseNoted: holds.releaseNoted }),
    ...redisCursors(r),

    createQueue(timeoutMs: number) {
      const q = new RedisQueue(r, timeoutMs);
      queues.add(q);
      return q;
    },

    async countLive() {
      const cards = (suffix: string) => Promise.all(Array.from({ length: BUCKETS }, (_, b) => r.call(() => r.client.zcard(r.key(`x${b}`, suffix)))));
      const [sessions, holds] = await Promise.all([cards('t'), cards('hx')]);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return { sessions: sum(sessions), holds: sum(holds) };
    },

    stats() {
      return { redisReconnects: r.reconnects };
    },

    createEventLog(options) {
      const log = new RedisEventLog(r, options);
      logs.add(log);
      return log;
    },

    async ping() {
      await r.ping();
    },

    async close() {
      await Promise.all([...queues].map((q) => q.close()));
      await Promise.all([...logs].map((l) => l.close()));
      await r.close();
    },
  };
}
