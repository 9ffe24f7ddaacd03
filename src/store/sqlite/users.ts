import type { Clock } from '../../core/clock.js';
import type { PendingRoles } from '../../core/authenticate.js';
import type { SessionInfo, SessionUser } from '../../core/session.js';
import { forgetAttempt, logAttempt, logExpiry, sameRoles, throttleWait, type StoredUser, type ThrottleRule, type UserChange } from '../../core/users.js';
import type { KeyRotation, LoginOutcome, StoredHold, UserPut, UserSteps } from '../contract.js';
import type { SqliteDatabase } from './database.js';

/**
 * Users, the index of sessions by user, pending role changes and login
 * throttling, for the SQLite engine (tables in schema.ts).
 *
 * - The user index is an index of the sessions table itself, on the user's
 *   name: it cannot hold an entry for a session that is gone.
 * - A role change sets the roles of each of the user's sessions at once and
 *   marks them in `pending_roles`; the session's next `authenticate` rotates
 *   its key with no grace (and takes the roles again, should they differ).
 *   A trigger drops the mark with its session, whatever ends it.
 * - Login attempts: a sliding log per counter (JSON array of times), swept
 *   through an index by expiry.
 */

interface UserRow { name: string; password_hash: string; roles: string; created_at: number; updated_at: number }

export interface SqliteUsersDeps<Row> {
  toSession: (row: Row) => SessionInfo;
  /** The raw (unwrapped) privilege change of sessions.ts. */
  setPrivilege: (id: string, next: KeyRotation, user: SessionUser | null) => SessionInfo | null;
  /** The raw removal of a session and all it owns. */
  removeSession: (id: string) => StoredHold[];
}

export interface SqliteUsers {
  steps: UserSteps;
  /** The role change pending for a session (not cleared: see dropPendingRoles); inside authenticate's step. */
  pendingRoles(id: string): PendingRoles | null;
  /** Drops a pending role change (the session changed user); inside a step. */
  dropPendingRoles(id: string): void;
  /** Removes login logs that no longer matter; inside the sweep's step. */
  sweep(now: number, limit: number): void;
}

const BY_USER = "json_extract(s.user, '$.name') = @user AND s.user IS NOT NULL";

export function sqliteUsers<Row>(sql: SqliteDatabase, clock: Clock, deps: SqliteUsersDeps<Row>): SqliteUsers {
  const { db, step } = sql;
  const { toSession } = deps;
  const q = {
    user: db.prepare<[string]>('SELECT * FROM users WHERE name = ?'),
    users: db.prepare('SELECT * FROM users ORDER BY name'),
    insertUser: db.prepare('INSERT INTO users VALUES (@name, @password_hash, @roles, @now, @now)'),
    updateUser: db.prepare('UPDATE users SET password_hash = @password_hash, roles = @roles, updated_at = @now WHERE name = @name'),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE name = ?'),
    sessionsOf: db.prepare(`SELECT s.* FROM sessions s WHERE ${BY_USER} AND s.id > @after AND s.next_timeout > @now ORDER BY s.id LIMIT @limit`),
    sessions: db.prepare('SELECT s.* FROM sessions s WHERE s.id > @after AND s.next_timeout > @now ORDER BY s.id LIMIT @limit'),
    liveOf: db.prepare(`SELECT s.* FROM sessions s WHERE ${BY_USER} AND s.next_timeout > @now`),
    markRoles: db.prepare(`INSERT INTO pending_roles (session_id, name, roles)
      SELECT s.id, @user, @roles FROM sessions s WHERE ${BY_USER} AND s.next_timeout > @now
      ON CONFLICT (session_id) DO UPDATE SET name = excluded.name, roles = excluded.roles`),
    setRoles: db.prepare(`UPDATE sessions AS s SET user = json_object('name', @user, 'roles', json(@roles))
      WHERE ${BY_USER} AND s.next_timeout > @now`),
    pending: db.prepare<[string]>('SELECT name, roles FROM pending_roles WHERE session_id = ?'),
    dropPending: db.prepare<[string]>('DELETE FROM pending_roles WHERE session_id = ?'),
    attempts: db.prepare<[string]>('SELECT log FROM login_attempts WHERE key = ?').pluck(),
    putAttempts: db.prepare(`INSERT INTO login_attempts VALUES (@key, @log, @expires_at)
      ON CONFLICT (key) DO UPDATE SET log = excluded.log, expires_at = excluded.expires_at`),
    setAttempts: db.prepare('UPDATE login_attempts SET log = @log WHERE key = @key'),
    dropAttempts: db.prepare<[string]>('DELETE FROM login_attempts WHERE key = ?'),
    sweepAttempts: db.prepare<[number, number]>(`DELETE FROM login_attempts WHERE key IN
      (SELECT key FROM login_attempts WHERE expires_at <= ? LIMIT ?)`),
  };

  const toUser = (r: UserRow): StoredUser => ({
    name: r.name, passwordHash: r.password_hash, roles: JSON.parse(r.roles), createdAt: r.created_at, updatedAt: r.updated_at,
  });
  const readUser = (name: string) => {
    const row = q.user.get(name) as UserRow | undefined;
    return row ? toUser(row) : null;
  };
  const readLog = (key: string): number[] => {
    const text = q.attempts.get(key) as string | undefined;
    return text ? JSON.parse(text) : [];
  };

  function endSessionsOf(user: string): SessionInfo[] {
    const rows = q.liveOf.all({ user, now: clock() }) as Row[];
    // Holds are released by removeSession, as for any ended session, and reported with it.
    return rows.map(toSession).map((s) => ({ ...s, releasedHolds: deps.removeSession(s.id) }));
  }

  const steps: UserSteps = {
    getUser: step((name: string) => readUser(name)),
    listUsers: step(() => (q.users.all() as UserRow[]).map(toUser)),

    putUser: step((name: string, change: UserChange): UserPut => {
      const now = clock();
      const current = readUser(name);
      if (!current) {
        if (change.passwordHash === undefined) return { user: null, created: false, ended: [] };
        const roles = change.roles ?? [];
        q.insertUser.run({ name, password_hash: change.passwordHash, roles: JSON.stringify(roles), now });
        return { user: readUser(name), created: true, ended: [] };
      }
      if (change.ifAbsent) return { user: current, created: false, ended: [] };
      const roles = change.roles ?? current.roles;
      q.updateUser.run({ name, password_hash: change.passwordHash ?? current.passwordHash, roles: JSON.stringify(roles), now });
      let ended: SessionInfo[] = [];
      if (change.passwordHash !== undefined) ended = endSessionsOf(name);
      else if (!sameRoles(roles, current.roles)) {
        const params = { user: name, roles: JSON.stringify(roles), now };
        q.setRoles.run(params);
        q.markRoles.run(params);
      }
      return { user: readUser(name), created: false, ended };
    }),

    deleteUser: step((name: string) => {
      const deleted = q.deleteUser.run(name).changes > 0;
      return { deleted, ended: deleted ? endSessionsOf(name) : [] };
    }),

    loginUser: step((id: string, next: KeyRotation, name: string, passwordHash: string): LoginOutcome => {
      const user = readUser(name);
      if (!user || user.passwordHash !== passwordHash) return { outcome: 'user_changed' };
      const session = deps.setPrivilege(id, next, { name, roles: user.roles });
      return session ? { outcome: 'ok', session } : { outcome: 'session_gone' };
    }),

    listSessions: step((user: string | null, after: string | null, limit: number) => {
      const params = { user, after: after ?? '', now: clock(), limit };
      return ((user === null ? q.sessions.all(params) : q.sessionsOf.all(params)) as Row[]).map(toSession);
    }),

    endUserSessions: step((user: string) => endSessionsOf(user)),

    takeLoginAttempt: step((keys: string[], rule: ThrottleRule) => {
      const now = clock();
      const logs = keys.map(readLog);
      const waitMs = Math.max(0, ...logs.map((log) => throttleWait(log, now, rule)));
      if (waitMs > 0) return { waitMs, at: now };
      keys.forEach((key, i) => {
        const log = logAttempt(logs[i], now, rule);
        q.putAttempts.run({ key, log: JSON.stringify(log), expires_at: logExpiry(log, rule) });
      });
      return { waitMs: 0, at: now };
    }),

    settleLoginAttempt: step((keys: string[], at: number) => {
      for (const key of keys) {
        const log = forgetAttempt(readLog(key), at);
        if (log.length === 0) q.dropAttempts.run(key);
        else q.setAttempts.run({ key, log: JSON.stringify(log) });
      }
    }),
  };

  return {
    steps,
    pendingRoles(id) {
      const row = q.pending.get(id) as { name: string; roles: string } | undefined;
      return row ? { name: row.name, roles: JSON.parse(row.roles) } : null;
    },
    dropPendingRoles(id) { q.dropPending.run(id); },
    sweep(now, limit) { q.sweepAttempts.run(now, limit); },
  };
}
