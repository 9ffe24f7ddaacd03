import type { SessionInfo, SessionUser } from '../../core/session.js';
import type { StoredUser, ThrottleRule, UserChange } from '../../core/users.js';
import type { EndedSession, KeyRotation, LoginOutcome, SessionStore, UserPut } from '../contract.js';
import { BUCKETS, type RedisConnection, type Reply } from './client.js';

export interface RedisUsersDeps {
  end(id: string, mode: 'user', user: string): Promise<EndedSession | null>;
  setPrivilege(id: string, next: KeyRotation, user: SessionUser | null, epoch: string): Promise<{ session: SessionInfo; previous: string } | null>;
  setRoles(id: string, name: string, userJson: string, epoch: string): Promise<unknown>;
  get(id: string): Promise<SessionInfo | null>;
}

export type RedisUserSteps = Pick<SessionStore, 'getUser' | 'listUsers' | 'putUser' | 'deleteUser' | 'loginUser' | 'listSessions'
  | 'endUserSessions' | 'takeLoginAttempt' | 'settleLoginAttempt'>;

/**
 * Users, the index of sessions by user and login throttling, for the Redis
 * engine. A user is a hash `{user:<name>}:u` and its index a sorted set
 * `{user:<name>}:s` (all scores 0, so ids sort for paging) under the same
 * tag. Steps that touch a user and its sessions run the user's script first,
 * then each session's (which checks the session is still that user's), so
 * they work on Cluster; see docs/architecture.md for why no race is lost.
 * The scripts are lua/users/.
 */
export function redisUsers(r: RedisConnection, deps: RedisUsersDeps) {
  const userKeys = (name: string) => [r.key(`user:${name}`, 'u'), r.key(`user:${name}`, 's')];
  const logKeys = (counter: string) => [r.key(`login:${counter}`, 'log'), r.key(`login:${counter}`, 'seq')];
  const toUser = (name: string, a: Reply[]): StoredUser =>
    ({ name, passwordHash: a[0], roles: JSON.parse(a[1]) as string[], createdAt: Number(a[2]), updatedAt: Number(a[3]) });

  const index = (name: string, id: string) => r.call(() => r.client.zadd(userKeys(name)[1], 0, id));
  const unindex = (name: string, id: string) => r.call(() => r.client.zrem(userKeys(name)[1], id));

  async function endAll(name: string, ids: string[]): Promise<SessionInfo[]> {
    const ended = await Promise.all(ids.map((id) => deps.end(id, 'user', name)));
    return ended.filter((e): e is EndedSession => e !== null).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Live sessions from a list of candidate ids (sorted), keeping those `keep` accepts. */
  async function liveOf(ids: string[], keep: (s: SessionInfo) => boolean, name: string | null): Promise<SessionInfo[]> {
    const found = await Promise.all(ids.map((id) => deps.get(id)));
    const gone = ids.filter((_, i) => found[i] === null);
    // an id whose session no longer exists can leave a user's index (ids are never reused)
    if (name !== null && gone.length > 0) await r.call(() => r.client.zrem(userKeys(name)[1], ...gone));
    return found.filter((s): s is SessionInfo => s !== null && keep(s));
  }

  const steps: RedisUserSteps = {
    async getUser(name) {
      const a = await r.call(() => r.client.hmget(userKeys(name)[0], 'hash', 'roles', 'created', 'updated'));
      return a[0] === null ? null : toUser(name, a);
    },

    async listUsers() {
      const head = `${r.prefix}:{user:`;
      const names = (await r.scan(`${head}*}:u`)).map((k) => k.slice(head.length, -3)).sort();
      const users = await Promise.all(names.map((n) => steps.getUser(n)));
      return users.filter((u): u is StoredUser => u !== null);
    },

    async putUser(name: string, change: UserChange): Promise<UserPut> {
      const a = await r.run('users/put', userKeys(name), [r.now(), change.passwordHash ?? '',
        change.roles ? JSON.stringify(change.roles) : '', change.ifAbsent ? '1' : '0']);
      if (a[0] === 'none') return { user: null, created: false, ended: [] };
      const user = toUser(name, a.slice(1, 5));
      if (a[0] !== 'changed') return { user, created: a[0] === 'created', ended: [] };
      const ids: string[] = a.slice(7);
      const epoch = String(a[6]);
      if (change.passwordHash !== undefined) return { user, created: false, ended: await endAll(name, ids) };
      if (a[2] !== a[5]) {
        const json = JSON.stringify({ name, roles: user.roles });
        await Promise.all(ids.map((id) => deps.setRoles(id, name, json, epoch)));
      }
      return { user, created: false, ended: [] };
    },

    async deleteUser(name) {
      const a = await r.run('users/delete', userKeys(name), [r.now()]);
      if (a[0] !== 1) return { deleted: false, ended: [] };
      return { deleted: true, ended: await endAll(name, a.slice(1)) };
    },

    async loginUser(id, next, name, passwordHash): Promise<LoginOutcome> {
      const a = await r.run('users/login', userKeys(name), [r.now(), passwordHash, id]);
      if (a[0] !== 'ok') return { outcome: 'user_changed' };
      const changed = await deps.setPrivilege(id, next, { name, roles: JSON.parse(a[1]) as string[] }, String(a[2] ?? '0'));
      if (!changed) {
        await unindex(name, id);
        return { outcome: 'session_gone' };
      }
      if (changed.previous && changed.previous !== name) await unindex(changed.previous, id);
      return { outcome: 'ok', session: changed.session };
    },

    async listSessions(user, after, limit) {
      const out: SessionInfo[] = [];
      let from = after ?? '';
      while (out.length < limit) {
        const want = limit - out.length;
        let ids: string[];
        if (user !== null) {
          ids = await r.call(() => r.client.zrangebylex(userKeys(user)[1], from === '' ? '-' : `(${from}`, '+', 'LIMIT', 0, want));
        } else {
          const parts = await Promise.all(Array.from({ length: BUCKETS }, (_, b) => r.call(() =>
            r.client.zrangebylex(r.key(`x${b}`, 'i'), from === '' ? '-' : `(${from}`, '+', 'LIMIT', 0, want))));
          ids = parts.flat().sort().slice(0, want);
        }
        if (ids.length === 0) break;
        out.push(...await liveOf(ids, (s) => user === null || s.user?.name === user, user));
        from = ids[ids.length - 1];
        if (ids.length < want) break;
      }
      return out.slice(0, limit);
    },

    async endUserSessions(user) {
      const ids = await r.call(() => r.client.zrange(userKeys(user)[1], 0, -1));
      return endAll(user, ids);
    },

    async takeLoginAttempt(keys: string[], rule: ThrottleRule) {
      // One counter per script (they live on different slots): log in each in turn, and take the
      // attempt back out of those already logged when a later one is throttled.
      let at = r.now();
      const logged: string[] = [];
      for (const key of keys) {
        const [wait, now] = await r.run('users/take_attempt', logKeys(key), [at, rule.maxFailures, rule.windowMs]);
        at = String(now);
        if (Number(wait) > 0) {
          await steps.settleLoginAttempt(logged, Number(at));
          return { waitMs: Number(wait), at: Number(at) };
        }
        logged.push(key);
      }
      return { waitMs: 0, at: Number(at) };
    },

    async settleLoginAttempt(keys, at) {
      await Promise.all(keys.map((key) => r.run('users/settle_attempt', [logKeys(key)[0]], [r.now(), at])));
    },
  };

  return { steps, index, unindex };
}
