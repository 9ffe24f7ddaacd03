import type { SessionInfo, SessionUser } from '../../core/session.js';
import type { AuthRequest, Authentication, EndedSession, KeyRotation, SessionStore, StoredHold } from '../contract.js';
import { BUCKETS, bucketOf, type Arg, type RedisConnection, type Reply } from './client.js';
import { decodeSession, sessionArgs, writeArgs, writtenRecord } from './codec.js';

export type RedisSessionSteps = Pick<SessionStore, 'createSession' | 'getSession' | 'touchSession' | 'authenticate' | 'changePrivilege' | 'endSession'
  | 'transferSession' | 'sweepExpired'>;

export interface RedisSessionsDeps {
  /** Releases the holds of a session its own script just ended, by the names it listed (holds.ts). The live ones. */
  releaseHolds(id: string, held: string[]): Promise<StoredHold[]>;
  /** Moves a transferred session's holds and claims to the new session, group by group (holds.ts). */
  moveHolds(oldId: string, newId: string, held: string[], claimed: string[]): Promise<void>;
  indexUser(name: string, id: string): Promise<unknown>;
  unindexUser(name: string, id: string): Promise<unknown>;
}

/**
 * Sessions of the Redis engine: each step is one script on the session's own
 * keys (lua/sessions/). The index of sessions by next timeout and by id is
 * sixteen buckets (`{x<n>}:t`, `{x<n>}:i`, n = bucketOf(id)), each on its own
 * slot; what the session's script decided is followed by its index entries,
 * its holds and its user's index, each in its own slot, in an order chosen so
 * that a lag leaves an entry for the sweep, never a live session unindexed.
 */
export function redisSessions(r: RedisConnection, deps: RedisSessionsDeps) {
  const sk = (id: string) => r.sessionKey(id);
  const margin = String(r.marginMs);
  const bucketKeys = (id: string): string[] => {
    const b = `x${bucketOf(id)}`;
    return [r.key(b, 't'), r.key(b, 'i')];
  };
  const index = (id: string, op: 'add' | 'del' | 'at', score = 0) => r.run('sessions/index', bucketKeys(id), [r.now(), op, id, score]);

  /** The steps after a session's own script ended it: its index entries and its holds, each in its own slot. */
  async function finishEnd(id: string, f: Reply[], userName: string, held: string[]): Promise<EndedSession> {
    const [released] = await Promise.all([
      deps.releaseHolds(id, held),
      index(id, 'del'),
      userName ? deps.unindexUser(userName, id) : null,
    ]);
    return { ...decodeSession(id, f), releasedHolds: released };
  }

  /** Ends a session by its own script; mode 'user' ends it only if it is a live session of that user. */
  async function end(id: string, mode: 'any' | 'user', user = ''): Promise<EndedSession | null> {
    const res = await r.run('sessions/end', [sk(id)], [r.now(), mode, user]);
    if (!res) return null;
    if (res[0] === 'live') return null;
    return finishEnd(id, res.slice(1, 11), res[11], res.slice(12));
  }

  /** New key, no grace, the user set (a login passes the epoch of its read of the user). */
  async function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null, epoch = ''):
    Promise<{ session: SessionInfo; previous: string } | null> {
    const res = await r.run('sessions/change_privilege', [sk(id)],
      [r.now(), next.keyHash, user ? JSON.stringify(user) : '', user?.name ?? '', epoch]);
    return res ? { session: decodeSession(id, res), previous: res[10] } : null;
  }

  /** Marks a role change pending on a live session of that user (applied by its next authenticate). */
  const setRoles = (id: string, name: string, json: string, epoch: string) =>
    r.run('sessions/set_roles', [sk(id)], [r.now(), name, json, epoch]);

  async function getSession(id: string): Promise<SessionInfo | null> {
    const f = await r.run('sessions/get', [sk(id)], [r.now()]);
    return f ? decodeSession(id, f) : null;
  }

  const steps: RedisSessionSteps = {
    async createSession(session, keyHash) {
      // The index first: an entry without its session is dropped by the sweep; a session without its entry would wait for its Redis TTL.
      await index(session.id, 'add', session.nextTimeout);
      await r.run('sessions/create', [sk(session.id)], [r.now(), ...sessionArgs(session), keyHash, margin]);
      if (session.user) await deps.indexUser(session.user.name, session.id);
    },

    getSession,

    async touchSession(id) {
      const f = await r.run('sessions/touch', [sk(id)], [r.now(), margin]);
      return f ? decodeSession(id, f) : null;
    },

    async authenticate(req: AuthRequest): Promise<Authentication> {
      const args: Arg[] = [r.now(), req.keyHash, req.client ?? '',
        req.rotation?.keyHash ?? '', req.rotation?.salt.toString('hex') ?? '', req.graceMs, margin];
      const w = req.write;
      if (w) args.push(...writeArgs(w));
      const res = await r.run(w ? 'sessions/authenticate_put' : 'sessions/authenticate', [sk(req.id)], args);
      // the write's {'ok', ...} follows the 13 items of an accepted authentication when it was made
      const written = w && (res[0] === 'current' || res[0] === 'grace') && res[13] === 'ok' ? writtenRecord(w, res, 13) : undefined;
      switch (res[0]) {
        case 'replayed': {
          const ended = await finishEnd(req.id, res.slice(1, 11), res[11], res.slice(12));
          return { outcome: 'replayed', session: ended };
        }
        case 'grace': {
          const session = decodeSession(req.id, res.slice(1, 11));
          return { outcome: 'grace', session, graceSalt: Buffer.from(res[11], 'hex'), scopes: res[12] === '1', written };
        }
        case 'current': {
          const session = decodeSession(req.id, res.slice(1, 11));
          return res[11] === 'privilege'
            ? { outcome: 'current', session, privilegeChanged: true, scopes: res[12] === '1', written }
            : { outcome: 'current', session, scopes: res[12] === '1', written };
        }
        default:
          return { outcome: 'invalid' };
      }
    },

    async changePrivilege(id, next, user) {
      if (user) await deps.indexUser(user.name, id);
      const changed = await setPrivilege(id, next, user);
      if (!changed) {
        if (user) await deps.unindexUser(user.name, id);
        return null;
      }
      if (changed.previous && changed.previous !== user?.name) await deps.unindexUser(changed.previous, id);
      return changed.session;
    },

    async endSession(id) {
      return end(id, 'any');
    },

    async transferSession(oldId, newId, keyHash) {
      const res: Reply[] | null = await r.run('sessions/take', [sk(oldId)], [r.now()]);
      if (!res) return null;
      const f = res.slice(0, 10);
      const userName: string = res[10];
      let i = 11;
      const held: string[] = [];
      while (res[i] !== '') held.push(res[i++]);
      i++;
      const claimed: string[] = [];
      while (res[i] !== '') claimed.push(res[i++]);
      const records = res.slice(i + 1);
      await index(newId, 'add', 0); // rescheduled by the sweep to the real next timeout
      const nf = await r.run('sessions/put', [sk(newId)], [r.now(), f[0], f[1], f[2], f[3], f[4], f[5], '', '', f[8], f[9] ?? '', userName,
        keyHash, r.marginMs, held.length, ...held, claimed.length, ...claimed, ...records]);
      await Promise.all([deps.moveHolds(oldId, newId, held, claimed), index(oldId, 'del'),
        userName ? deps.unindexUser(userName, oldId).then(() => deps.indexUser(userName, newId)) : null]);
      return decodeSession(newId, nf);
    },

    async sweepExpired(limit) {
      const now = await r.time();
      const out: EndedSession[] = [];
      for (let b = 0; b < BUCKETS && out.length < limit; b++) {
        const due: string[] = await r.call(() => r.client.zrangebyscore(r.key(`x${b}`, 't'), '-inf', now, 'LIMIT', 0, limit - out.length));
        const ended = await Promise.all(due.map(async (id) => {
          const res = await r.run('sessions/end', [sk(id)], [r.now(), 'expired', '']);
          if (!res) await index(id, 'del'); // gone already (ended, transferred): drop the entry
          else if (res[0] === 'live') await index(id, 'at', Number(res[1])); // touched since: its sweep time moves on
          else return finishEnd(id, res.slice(1, 11), res[11], res.slice(12));
          return null;
        }));
        out.push(...ended.filter((e): e is EndedSession => e !== null));
      }
      return out;
    },
  };

  return { steps, end, setPrivilege, setRoles };
}
