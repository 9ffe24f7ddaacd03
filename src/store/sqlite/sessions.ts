import type { Clock } from '../../core/clock.js';
import { decideAuthentication, readsPending } from '../../core/authenticate.js';
import { unlessRefused } from '../../core/records.js';
import { nextTimeoutOf, rotated, type KeyState, type SessionInfo, type SessionUser } from '../../core/session.js';
import type { AuthRequest, Authentication, EndedSession, KeyRotation, SessionSteps, StoredHold, UpkeepSteps } from '../contract.js';
import type { SqliteCursors } from './cursors.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteHolds } from './holds.js';
import type { SqliteRecords } from './records.js';
import type { SqliteTransactions } from './transactions.js';
import type { SqliteUsers } from './users.js';

export interface SqliteSessionsDeps {
  records: SqliteRecords;
  holds: SqliteHolds;
  users: SqliteUsers;
  transactions: SqliteTransactions;
  cursors: SqliteCursors;
}

export interface SqliteSessions {
  steps: SessionSteps & Pick<UpkeepSteps, 'sweepExpired'>;
  /** Removes a session and all it owns (transactions and cursors too); its live holds are released (claims stay). Inside a step. */
  removeSession(id: string): StoredHold[];
  /** The raw privilege change (changePrivilege, and login inside the users' step). */
  setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null;
}

export interface SessionRow {
  id: string; client: string; rotation: string; queue: number; idle_timeout: number; lifespan: number;
  created_at: number; last_access_at: number; next_timeout: number; sweep_at: number; user: string | null;
  key_hash: Buffer; superseded: Buffer; grace_until: number; grace_salt: Buffer | null;
}

/** The sessions columns in schema order, read raw (an array) and turned into a SessionRow of one fixed shape. */
const SESSION_COLUMNS = `id, client, rotation, queue, idle_timeout, lifespan, created_at, last_access_at, next_timeout,
  sweep_at, user, key_hash, superseded, grace_until, grace_salt`;

function sessionRow(a: unknown[]): SessionRow {
  return {
    id: a[0] as string, client: a[1] as string, rotation: a[2] as string, queue: a[3] as number,
    idle_timeout: a[4] as number, lifespan: a[5] as number, created_at: a[6] as number, last_access_at: a[7] as number,
    next_timeout: a[8] as number, sweep_at: a[9] as number, user: a[10] as string | null, key_hash: a[11] as Buffer,
    superseded: a[12] as Buffer, grace_until: a[13] as number, grace_salt: a[14] as Buffer | null,
  };
}

export function toSession(r: SessionRow): SessionInfo {
  return {
    id: r.id, client: r.client, rotation: r.rotation as SessionInfo['rotation'], queue: r.queue === 1,
    idleTimeout: r.idle_timeout, lifespan: r.lifespan, createdAt: r.created_at, lastAccessAt: r.last_access_at,
    nextTimeout: r.next_timeout, expiresAt: r.created_at + r.lifespan * 1000,
    user: r.user === null ? null : JSON.parse(r.user),
  };
}

function toKeys(r: SessionRow): KeyState {
  return { keyHash: r.key_hash, superseded: r.superseded, graceUntil: r.grace_until, graceSalt: r.grace_salt };
}

/** The session row of a live session, for the slices that check liveness; built before the others. */
export function sqliteSessionReader(sql: SqliteDatabase) {
  const get = sql.db.prepare<[string]>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`).raw(true);
  const isLive = sql.db.prepare<[string, number]>('SELECT 1 FROM sessions WHERE id = ? AND next_timeout > ?').pluck();
  return {
    getRow(id: string): SessionRow | undefined {
      const raw = get.get(id) as unknown[] | undefined;
      return raw && sessionRow(raw);
    },
    isLive: (id: string, now: number) => isLive.get(id, now) !== undefined,
  };
}

/** Sessions of the SQLite engine: every step is one `step` of the group commit (database.ts). */
export function sqliteSessions(sql: SqliteDatabase, clock: Clock, deps: SqliteSessionsDeps): SqliteSessions {
  const { db, step, inSavepoint } = sql;
  const { records, holds, users, transactions, cursors } = deps;
  const { getRow } = sqliteSessionReader(sql);
  const q = {
    insert: db.prepare<[string, string, string, number, number, number, number, number, number, number, string | null, Buffer]>(
      `INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'', 0, NULL)`),
    // Positional parameters on the hot statements: binding by name looks every name up on an object.
    touch: db.prepare<[number, number, string]>('UPDATE sessions SET last_access_at = ?, next_timeout = ? WHERE id = ?'),
    rotate: db.prepare<[number, number, Buffer, Buffer, number, Buffer | null, string]>(`UPDATE sessions
      SET last_access_at = ?, next_timeout = ?, key_hash = ?, superseded = ?, grace_until = ?, grace_salt = ? WHERE id = ?`),
    setPrivilege: db.prepare(`UPDATE sessions SET user = @user, key_hash = @key_hash, superseded = @superseded,
      grace_until = 0, grace_salt = NULL WHERE id = @id`),
    setUser: db.prepare<[string, string]>('UPDATE sessions SET user = ? WHERE id = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    due: db.prepare<[number, number]>('SELECT * FROM sessions WHERE sweep_at <= ? ORDER BY sweep_at LIMIT ?'),
    reschedule: db.prepare<[number, string]>('UPDATE sessions SET sweep_at = ? WHERE id = ?'),
    copySession: db.prepare(`INSERT INTO sessions (id, client, rotation, queue, idle_timeout, lifespan, created_at,
      last_access_at, next_timeout, sweep_at, user, key_hash, superseded, grace_until, grace_salt)
      SELECT @new, client, rotation, queue, idle_timeout, lifespan, created_at, @now, @next, @next, user, @key_hash,
      x'', 0, NULL FROM sessions WHERE id = @old`),
    // The session row and whether it has transaction state, in one read.
    getForAuth: db.prepare<[string]>(`SELECT ${SESSION_COLUMNS}, EXISTS (SELECT 1 FROM scopes WHERE session_id = s.id)
      FROM sessions s WHERE s.id = ?`).raw(true),
  };

  function removeSession(id: string): StoredHold[] {
    records.dropSession(id);
    q.deleteSession.run(id);
    transactions.dropSession(id);
    cursors.dropSession(id);
    return holds.dropSession(id);
  }

  function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null {
    const row = getRow(id);
    if (!row || row.next_timeout <= clock()) return null;
    const keys = rotated(toKeys(row), next, 0);
    q.setPrivilege.run({ id, user: user === null ? null : JSON.stringify(user), key_hash: keys.keyHash, superseded: keys.superseded });
    users.dropPendingRoles(id);
    return { ...toSession(row), user };
  }

  const authenticate = step((req: AuthRequest): Authentication => {
    const now = clock();
    const raw = q.getForAuth.get(req.id) as unknown[] | undefined;
    const row = raw && sessionRow(raw);
    const hasScopes = raw?.[15] === 1;
    const stored = row ? { session: toSession(row), keys: toKeys(row) } : null;
    const d = decideAuthentication({
      stored, presented: req.keyHash, client: req.client, rotation: req.rotation, graceMs: req.graceMs, now,
      pending: stored && readsPending(stored.session, req.rotation) ? users.pendingRoles(req.id) : null,
    });
    if (d.outcome === 'invalid') return d;
    if (d.outcome === 'replayed') {
      inSavepoint(() => removeSession(req.id));
      return d;
    }
    const { session, keys } = d;
    const write = (): Authentication => {
      if (keys) q.rotate.run(now, session.nextTimeout, keys.keyHash, keys.superseded, keys.graceUntil, keys.graceSalt, req.id);
      else q.touch.run(now, session.nextTimeout, req.id);
      if (d.privilegeChanged) q.setUser.run(JSON.stringify(session.user), req.id);
      if (d.dropPending) users.dropPendingRoles(req.id);
      const written = req.write && !hasScopes ? unlessRefused(() => records.write(req.id, req.write!, now)) : undefined;
      if (d.privilegeChanged) return { outcome: 'current', session, privilegeChanged: true, scopes: hasScopes, written };
      return d.outcome === 'grace'
        ? { outcome: 'grace', session, graceSalt: d.graceSalt!, scopes: hasScopes, written }
        : { outcome: 'current', session, scopes: hasScopes, written };
    };
    // Without a pending role change and without a record write it is one write: no savepoint needed.
    return d.dropPending || req.write ? inSavepoint(write) : write();
  }, { savepoint: false });

  // A touch moves next_timeout but not sweep_at, so the index is not rewritten
  // on every request; the sweep reschedules a due session that is still alive
  // (once per idle period at most) and removes the ones that expired.
  const sweepExpired = step((limit: number): EndedSession[] => {
    const now = clock();
    const expired: EndedSession[] = [];
    for (;;) {
      const rows = q.due.all(now, limit) as SessionRow[];
      for (const r of rows) {
        if (r.next_timeout > now) {
          q.reschedule.run(r.next_timeout, r.id);
        } else if (expired.length < limit) {
          expired.push({ ...toSession(r), releasedHolds: removeSession(r.id) });
        }
      }
      if (rows.length < limit || expired.length >= limit) break;
    }
    records.sweep(now, limit);
    users.sweep(now, limit);
    return expired;
  });

  const steps: SqliteSessions['steps'] = {
    createSession: step((s: SessionInfo, keyHash: Buffer) => {
      q.insert.run(s.id, s.client, s.rotation, s.queue ? 1 : 0, s.idleTimeout, s.lifespan, s.createdAt, s.lastAccessAt,
        s.nextTimeout, s.nextTimeout, s.user === null ? null : JSON.stringify(s.user), keyHash);
    }, { savepoint: false }),

    getSession: step((id: string) => {
      const row = getRow(id);
      return row && row.next_timeout > clock() ? toSession(row) : null;
    }, { savepoint: false }),

    authenticate,

    touchSession: step((id: string) => {
      const now = clock();
      const row = getRow(id);
      if (!row || row.next_timeout <= now) return null;
      const session = toSession(row);
      session.lastAccessAt = now;
      session.nextTimeout = nextTimeoutOf(session, now);
      q.touch.run(now, session.nextTimeout, id);
      return session;
    }, { savepoint: false }),

    changePrivilege: step(setPrivilege),

    endSession: step((id: string): EndedSession | null => {
      const row = getRow(id);
      if (!row) return null;
      return { ...toSession(row), releasedHolds: removeSession(id) };
    }),

    transferSession: step((oldId: string, newId: string, keyHash: Buffer) => {
      const now = clock();
      const row = getRow(oldId);
      if (!row || row.next_timeout <= now) return null;
      const old = toSession(row);
      const next = nextTimeoutOf(old, now);
      q.copySession.run({ old: oldId, new: newId, now, next, key_hash: keyHash });
      records.moveSession(oldId, newId);
      holds.moveSession(oldId, newId);
      q.deleteSession.run(oldId);
      return { ...old, id: newId, lastAccessAt: now, nextTimeout: next };
    }),

    sweepExpired,
  };

  return { steps, removeSession, setPrivilege };
}
