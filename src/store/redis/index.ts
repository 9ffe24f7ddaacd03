import { TesseraError } from '../../core/errors.js';
import { checkDelete, planWrite } from '../../core/records.js';
import type { SessionInfo, SessionUser } from '../../core/session.js';
import type { AuthRequest, Authentication, EndedSession, KeyRotation, RecordKind, RecordWrite, SessionStore, StoredRecord } from '../contract.js';
import { BUCKETS, bucketOf, RedisConnection, type Arg, type Reply, type RedisStoreOptions } from './client.js';
import { redisHolds } from './holds.js';
import * as L from './lua/sessions.js';
import { RedisQueue } from './queue.js';
import { redisTransactions } from './transactions.js';
import { redisUsers } from './users.js';

export { StoreUnavailableError, type RedisStoreOptions } from './client.js';

/**
 * The Redis engine, standalone or Cluster (docs/architecture.md, "Redis").
 * Every contract step that must be atomic is one Lua script over the keys of
 * one session (`{id}` hash tag: its records, scopes and cursors) or of one
 * resource group (`{group}`). What spans slots (an index, a user and its
 * sessions, a session and its holds) is a second, idempotent step in a fixed
 * order, chosen so a lag can delay an event or leave an entry for the sweep,
 * never sell a seat twice or keep a session alive.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<SessionStore> {
  const r = new RedisConnection(options);
  await r.connect();
  const s = L.sessionScript;
  const sk = (id: string) => r.key(id, 's');
  const margin = String(r.marginMs);
  const bucketKeys = (id: string): string[] => {
    const b = `x${bucketOf(id)}`;
    return [r.key(b, 't'), r.key(b, 'i')];
  };
  const queues = new Set<RedisQueue>();

  function toSession(id: string, f: Reply[]): SessionInfo {
    return {
      id, client: f[0], rotation: f[1], queue: f[2] === '1', idleTimeout: Number(f[3]), lifespan: Number(f[4]),
      createdAt: Number(f[5]), lastAccessAt: Number(f[6]), nextTimeout: Number(f[7]), expiresAt: Number(f[8]),
      user: f[9] ? JSON.parse(f[9]) as SessionUser : null,
    };
  }

  function toRecord(name: string, key: string, enc: string): StoredRecord {
    const parts: string[] = [];
    let at = 0;
    for (let i = 0; i < 5; i++) {
      const bar = enc.indexOf('|', at);
      parts.push(enc.slice(at, bar));
      at = bar + 1;
    }
    return {
      name, key: key === '' ? null : key, kind: parts[0] === 's' ? 'single' : 'multiple', value: enc.slice(at),
      version: Number(parts[1]), updatedAt: Number(parts[2]),
      ttlMs: parts[3] === '' ? null : Number(parts[3]), expiresAt: parts[4] === '' ? null : Number(parts[4]),
    };
  }

  const index = (id: string, op: 'add' | 'del' | 'at', score = 0) => r.run(s(L.INDEX), bucketKeys(id), [r.now(), op, id, score]);

  /** The steps after a session's own script ended it: its index entries and its holds, each in its own slot. */
  async function finishEnd(id: string, f: Reply[], userName: string, held: string[]): Promise<EndedSession> {
    const [released] = await Promise.all([
      holds.releaseFor(id, held),
      index(id, 'del'),
      userName ? users.unindex(userName, id) : null,
    ]);
    return { ...toSession(id, f), releasedHolds: released };
  }

  /** Ends a session by its own script; mode 'user' ends it only if it is a live session of that user. */
  async function end(id: string, mode: 'any' | 'user', user = ''): Promise<EndedSession | null> {
    const res = await r.run(s(L.END), [sk(id)], [r.now(), mode, user]);
    if (!res) return null;
    if (res[0] === 'live') return null;
    return finishEnd(id, res.slice(1, 11), res[11], res.slice(12));
  }

  async function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null, epoch = ''):
    Promise<{ session: SessionInfo; previous: string } | null> {
    const res = await r.run(s(L.CHANGE_PRIVILEGE), [sk(id)],
      [r.now(), next.keyHash, user ? JSON.stringify(user) : '', user?.name ?? '', epoch]);
    return res ? { session: toSession(id, res), previous: res[10] } : null;
  }

  const users = redisUsers(r, {
    end: (id, mode, user) => end(id, mode, user),
    setPrivilege,
    setRoles: (id, name, json, epoch) => r.run(s(L.SET_ROLES), [sk(id)], [r.now(), name, json, epoch]),
    get: (id) => getSession(id),
  });
  const holds = redisHolds(r, {
    session: (lua, id, args) => r.run(s(lua), [sk(id)], args),
    toSession,
    index: (id, op, score) => index(id, op, score),
    indexUser: users.index,
    unindexUser: users.unindex,
    expiryOf: async (id) => (await getSession(id))?.nextTimeout ?? null,
  });
  const scopes = redisTransactions(r, {
    session: (lua, id, args) => r.run(s(lua), [sk(id)], args),
    releaseNoted: holds.releaseNoted,
    toRecord,
  });

  async function getSession(id: string): Promise<SessionInfo | null> {
    const f = await r.run(s(L.GET), [sk(id)], [r.now()]);
    return f ? toSession(id, f) : null;
  }

  /** put_record's ARGV (redis-lua.ts). */
  function writeArgs(w: RecordWrite): Arg[] {
    return [w.name, w.key ?? '', w.kind, w.value, w.ttlMs ?? '', w.ifVersion ?? '', w.maxEntries, w.maxRecords];
  }

  /** The record put_record wrote: its {'ok', version, updatedAt, expiresAt} at res[at]. */
  function stored(w: RecordWrite, res: Reply[], at: number): StoredRecord {
    return {
      name: w.name, key: w.key, kind: w.kind, value: w.value, version: Number(res[at + 1]), updatedAt: Number(res[at + 2]),
      ttlMs: w.ttlMs, expiresAt: res[at + 3] === '' ? null : Number(res[at + 3]),
    };
  }

  function fail(res: Reply): void {
    if (res?.[0] === 'invalid') throw new TesseraError('SESSION_INVALID');
  }

  const store: SessionStore = {
    kind: r.cluster ? 'redis-cluster' : 'redis',

    async createSession(session, keyHash) {
      // The index first: an entry without its session is dropped by the sweep; a session without its entry would wait for its Redis TTL.
      await index(session.id, 'add', session.nextTimeout);
      await r.run(s(L.CREATE), [sk(session.id)], [r.now(), session.client, session.rotation, session.queue ? '1' : '0',
        session.idleTimeout, session.lifespan, session.createdAt, session.lastAccessAt, session.nextTimeout, session.expiresAt,
        session.user ? JSON.stringify(session.user) : '', session.user?.name ?? '', keyHash, margin]);
      if (session.user) await users.index(session.user.name, session.id);
    },

    getSession,

    async touchSession(id: string) {
      const f = await r.run(s(L.TOUCH), [sk(id)], [r.now(), margin]);
      return f ? toSession(id, f) : null;
    },

    async authenticate(req: AuthRequest): Promise<Authentication> {
      const args: Arg[] = [r.now(), req.keyHash, req.client ?? '',
        req.rotation?.keyHash ?? '', req.rotation?.salt.toString('hex') ?? '', req.graceMs, margin];
      const w = req.write;
      if (w) args.push(...writeArgs(w));
      const res = await r.run(s(w ? L.AUTHENTICATE_PUT : L.AUTHENTICATE), [sk(req.id)], args);
      // the write's {'ok', ...} follows the 13 items of an accepted authentication when it was made
      const written = w && (res[0] === 'current' || res[0] === 'grace') && res[13] === 'ok' ? stored(w, res, 13) : undefined;
      switch (res[0]) {
        case 'replayed': {
          const ended = await finishEnd(req.id, res.slice(1, 11), res[11], res.slice(12));
          return { outcome: 'replayed', session: ended };
        }
        case 'grace': {
          const session = toSession(req.id, res.slice(1, 11));
          return { outcome: 'grace', session, graceSalt: Buffer.from(res[11], 'hex'), scopes: res[12] === '1', written };
        }
        case 'current': {
          const session = toSession(req.id, res.slice(1, 11));
          return res[11] === 'privilege'
            ? { outcome: 'current', session, privilegeChanged: true, scopes: res[12] === '1', written }
            : { outcome: 'current', session, scopes: res[12] === '1', written };
        }
        default:
          return { outcome: 'invalid' };
      }
    },

    async changePrivilege(id, next, user) {
      if (user) await users.index(user.name, id);
      const changed = await setPrivilege(id, next, user);
      if (!changed) {
        if (user) await users.unindex(user.name, id);
        return null;
      }
      if (changed.previous && changed.previous !== user?.name) await users.unindex(changed.previous, id);
      return changed.session;
    },

    async putRecord(sessionId: string, w: RecordWrite) {
      const res = await r.run(s(L.PUT_RECORD), [sk(sessionId)], [r.now(), ...writeArgs(w)]);
      fail(res);
      if (res[0] === 'reject') {
        planWrite(w, { liveKind: (res[1] || null) as RecordKind | null, currentVersion: Number(res[2]), liveEntries: Number(res[3]), liveRecords: Number(res[4]) });
        throw new Error('redis: a refused write passed the rules'); // unreachable: the script and planWrite agree
      }
      return stored(w, res, 0);
    },

    async getRecord(sessionId, name) {
      return readRecords(sessionId, name);
    },

    async listRecords(sessionId) {
      return readRecords(sessionId, '');
    },

    async deleteRecord(sessionId, name, key, ifVersion) {
      const res = await r.run(s(L.DELETE_RECORD), [sk(sessionId)], [r.now(), name, key ?? '', ifVersion ?? '']);
      fail(res);
      if (res[0] === 'reject') {
        checkDelete(ifVersion, { kind: res[1], version: Number(res[2]) }, key === null);
        throw new Error('redis: a refused delete passed the rules');
      }
      return Number(res[1]) === 1;
    },

    async touchRecords(sessionId) {
      fail(await r.run(s(L.TOUCH_RECORDS), [sk(sessionId)], [r.now()]));
    },

    async endSession(id) {
      return end(id, 'any');
    },

    async sweepExpired(limit) {
      const now = await r.time();
      const out: EndedSession[] = [];
      for (let b = 0; b < BUCKETS && out.length < limit; b++) {
        const due: string[] = await r.call(() => r.client.zrangebyscore(r.key(`x${b}`, 't'), '-inf', now, 'LIMIT', 0, limit - out.length));
        const ended = await Promise.all(due.map(async (id) => {
          const res = await r.run(s(L.END), [sk(id)], [r.now(), 'expired', '']);
          if (!res) await index(id, 'del'); // gone already (ended, transferred): drop the entry
          else if (res[0] === 'live') await index(id, 'at', Number(res[1])); // touched since: its sweep time moves on
          else return finishEnd(id, res.slice(1, 11), res[11], res.slice(12));
          return null;
        }));
        out.push(...ended.filter((e): e is EndedSession => e !== null));
      }
      return out;
    },

    ...holds.methods,
    ...users.methods,
    ...scopes,

    createQueue(timeoutMs: number) {
      const q = new RedisQueue(r, timeoutMs);
      queues.add(q);
      return q;
    },

    async ping() {
      await r.ping();
    },

    async close() {
      await Promise.all([...queues].map((q) => q.close()));
      await r.close();
    },
  };

  async function readRecords(sessionId: string, name: string): Promise<StoredRecord[]> {
    const res = await r.run(s(L.READ_RECORDS), [sk(sessionId)], [r.now(), name]);
    fail(res);
    const out: StoredRecord[] = [];
    for (let i = 1; i < res.length; i += 3) out.push(toRecord(res[i], res[i + 1], res[i + 2]));
    return out.sort((a, b) => cmp(a.name, b.name) || cmp(a.key ?? '', b.key ?? ''));
  }

  return store;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

