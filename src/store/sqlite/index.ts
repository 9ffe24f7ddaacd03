import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import { checkDelete, planWrite, unlessRefused } from '../../core/records.js';
import { checkKey, nextTimeoutOf, rotated, type KeyState, type SessionInfo, type SessionUser } from '../../core/session.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import type { AuthRequest, Authentication, EndedSession, KeyRotation, RecordKind, RecordWrite, SessionStore, StoredHold, StoredRecord } from '../contract.js';
import { sqliteHolds } from './holds.js';
import { sqliteUsers } from './users.js';
import { sqliteCursors } from './cursors.js';
import { sqliteTransactions } from './transactions.js';

export interface SqliteStoreOptions {
  /** The database file, or ':memory:'. Its folder is created if missing. */
  path: string;
  /**
   * 'normal': a commit survives a crash of the process (WAL), the last ones may
   * be lost to a power cut. 'full': fsync on every commit, survives both.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full';
  /** The store's clock. @default Date.now */
  clock?: Clock;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id             TEXT PRIMARY KEY,
  client         TEXT NOT NULL,
  rotation       TEXT NOT NULL,
  queue          INTEGER NOT NULL,
  idle_timeout   INTEGER NOT NULL,
  lifespan       INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  last_access_at INTEGER NOT NULL,
  next_timeout   INTEGER NOT NULL,
  sweep_at       INTEGER NOT NULL,
  user           TEXT,
  key_hash       BLOB NOT NULL,
  superseded     BLOB NOT NULL,
  grace_until    INTEGER NOT NULL,
  grace_salt     BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_sweep ON sessions (sweep_at);
CREATE TABLE IF NOT EXISTS records (
  session_id TEXT NOT NULL,
  name       TEXT NOT NULL,
  key        TEXT NOT NULL,
  kind       TEXT NOT NULL,
  value      TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ttl_ms     INTEGER,
  expires_at INTEGER,
  PRIMARY KEY (session_id, name, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
`;

const SCHEMA_VERSION = 1;
const CHECKPOINT_INTERVAL_MS = 100;
/** WAL frames (64 MiB of 4 KiB pages) past which the writer copies the tail so that the WAL starts again. */
const WAL_RESTART_FRAMES = 16_384;

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const hasTables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").get() !== undefined;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION || hasTables) {
    db.close();
    throw new Error(`${path}: this database has schema version ${version}; this Tessera uses ${SCHEMA_VERSION}. `
      + 'Use a new file, or the Tessera version that wrote it.');
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

interface SessionRow {
  id: string; client: string; rotation: string; queue: number; idle_timeout: number; lifespan: number;
  created_at: number; last_access_at: number; next_timeout: number; sweep_at: number; user: string | null;
  key_hash: Buffer; superseded: Buffer; grace_until: number; grace_salt: Buffer | null;
}

interface RecordRow {
  name: string; key: string; kind: RecordKind; value: string; version: number;
  updated_at: number; ttl_ms: number | null; expires_at: number | null;
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

function toSession(r: SessionRow): SessionInfo {
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

function toRecord(r: RecordRow): StoredRecord {
  return {
    name: r.name, key: r.kind === 'single' ? null : r.key, kind: r.kind, value: r.value, version: r.version,
    updatedAt: r.updated_at, ttlMs: r.ttl_ms, expiresAt: r.expires_at,
  };
}

/** The embedded default: one SQLite file in WAL mode; every contract step is one transaction. */
export function createSqliteStore(options: SqliteStoreOptions): SessionStore {
  const clock = options.clock ?? systemClock;
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  // A 64 MiB page cache (SQLite's default is 2 MiB): the sessions' B-tree is
  // keyed by random ids, so with a million sessions most pages would miss.
  db.pragma('cache_size = -65536');
  migrate(db, options.path);
  let checkpointer: Checkpointer | null = null;
  // Set when the checkpointer asks for the WAL's tail during a turn: copied before the next one begins.
  let tailDue = false;
  const copyTail = () => {
    tailDue = false;
    try {
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or failing: the checkpointer's next round asks again
    }
  };
  if (options.path !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    // After the WAL starts again from its top, its file is cut back to this size (twice
    // the restart point, so that a busy writer reuses the file rather than growing it anew).
    db.pragma(`journal_size_limit = ${WAL_RESTART_FRAMES * 4096 * 2}`);
    checkpointer = startCheckpointer(options.path, {
      intervalMs: CHECKPOINT_INTERVAL_MS,
      restartFrames: WAL_RESTART_FRAMES,
      onTail: () => {
        if (db.inTransaction) tailDue = true;
        else copyTail();
      },
      // Should the worker fail, SQLite's own checkpoint on commit takes over again.
      onError: () => db.open && db.pragma('wal_autocheckpoint = 1000'),
    });
  }

  const LIVE = '(expires_at IS NULL OR expires_at > @now)';
  const q = {
    insert: db.prepare<[string, string, string, number, number, number, number, number, number, number, string | null, Buffer]>(
      `INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'', 0, NULL)`),
    get: db.prepare<[string]>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`).raw(true),
    isLive: db.prepare<[string, number]>('SELECT 1 FROM sessions WHERE id = ? AND next_timeout > ?').pluck(),
    // Positional parameters on the hot statements: binding by name looks every name up on an object.
    touch: db.prepare<[number, number, string]>('UPDATE sessions SET last_access_at = ?, next_timeout = ? WHERE id = ?'),
    rotate: db.prepare<[number, number, Buffer, Buffer, number, Buffer | null, string]>(`UPDATE sessions
      SET last_access_at = ?, next_timeout = ?, key_hash = ?, superseded = ?, grace_until = ?, grace_salt = ? WHERE id = ?`),
    setPrivilege: db.prepare(`UPDATE sessions SET user = @user, key_hash = @key_hash, superseded = @superseded,
      grace_until = 0, grace_salt = NULL WHERE id = @id`),
    setUser: db.prepare<[string, string]>('UPDATE sessions SET user = ? WHERE id = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    deleteRecords: db.prepare<[string]>('DELETE FROM records WHERE session_id = ?'),
    due: db.prepare<[number, number]>('SELECT * FROM sessions WHERE sweep_at <= ? ORDER BY sweep_at LIMIT ?'),
    reschedule: db.prepare<[number, string]>('UPDATE sessions SET sweep_at = ? WHERE id = ?'),
    expiredRecords: db.prepare<[number, number]>(`DELETE FROM records WHERE (session_id, name, key) IN
      (SELECT session_id, name, key FROM records WHERE expires_at <= ? LIMIT ?)`),
    // The live state of one record name in one read: its kind, its entry count, the version of one entry.
    liveName: db.prepare<[string, string, string, number]>(`SELECT max(kind), count(*), max(CASE WHEN key = ? THEN version END)
      FROM records WHERE session_id = ? AND name = ? AND (expires_at IS NULL OR expires_at > ?)`).raw(true),
    entry: db.prepare(`SELECT * FROM records WHERE session_id = @id AND name = @name AND key = @key AND ${LIVE}`),
    recordCount: db.prepare(`SELECT count(DISTINCT name) FROM records WHERE session_id = @id AND ${LIVE}`).pluck(),
    dropName: db.prepare('DELETE FROM records WHERE session_id = @id AND name = @name'),
    upsert: db.prepare<[string, string, string, RecordKind, string, number, number, number | null, number | null]>(
      `INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (session_id, name, key) DO UPDATE SET kind = excluded.kind, value = excluded.value,
      version = excluded.version, updated_at = excluded.updated_at, ttl_ms = excluded.ttl_ms, expires_at = excluded.expires_at`),
    record: db.prepare(`SELECT * FROM records WHERE session_id = @id AND name = @name AND ${LIVE} ORDER BY key`),
    records: db.prepare(`SELECT * FROM records WHERE session_id = @id AND ${LIVE} ORDER BY name, key`),
    deleteEntry: db.prepare('DELETE FROM records WHERE session_id = @id AND name = @name AND key = @key'),
    touchRecords: db.prepare(`UPDATE records SET expires_at = @now + ttl_ms
      WHERE session_id = @id AND ttl_ms IS NOT NULL AND expires_at > @now`),
  };

  // Group commit: every step of one event-loop turn runs inside one
  // transaction (a step's writes in a savepoint, so a step that throws undoes
  // only itself), committed at the end of the turn; a step's promise settles
  // only after that commit, so nothing is acknowledged before it is durable.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let waiting: { settle: () => void; fail: (e: unknown) => void }[] = [];

  function commitTurn(): void {
    const settled = waiting;
    waiting = [];
    try {
      commit.run();
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const w of settled) w.fail(e);
      return;
    }
    for (const w of settled) w.settle();
  }

  // A savepoint (two statements) per step costs 1-2 µs. A step may go without
  // one only if no path of it makes more than one write unguarded: its other
  // paths wrap their writes in `inSavepoint`.
  function step<A extends unknown[], T>(fn: (...args: A) => T, options: { savepoint?: boolean } = {}): (...args: A) => Promise<T> {
    const txn = options.savepoint === false ? fn : db.transaction(fn);
    return (...args: A) => {
      if (!db.inTransaction) {
        if (tailDue) copyTail();
        begin.run();
        setImmediate(commitTurn);
      }
      let result: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        result = { ok: true, value: txn(...args) };
      } catch (error) {
        result = { ok: false, error };
      }
      return new Promise<T>((resolve, reject) => {
        waiting.push({
          settle: () => (result.ok ? resolve(result.value) : reject(result.error)),
          fail: reject,
        });
      });
    };
  }

  const savepoint = db.transaction((f: () => unknown) => f());
  const inSavepoint = <T>(f: () => T): T => savepoint(f) as T;

  function getRow(id: string): SessionRow | undefined {
    const raw = q.get.get(id) as unknown[] | undefined;
    return raw && sessionRow(raw);
  }

  function requireLive(id: string, now: number): void {
    if (!q.isLive.get(id, now)) throw new TesseraError('SESSION_INVALID');
  }

  const holds = sqliteHolds(db, step, clock, (id, now) => {
    const row = getRow(id);
    return row && row.next_timeout > now ? toSession(row) : null;
  });

  const { dropSession: _dropSession, ...holdMethods } = holds;
  const isLive = (id: string, now: number) => q.isLive.get(id, now) !== undefined;
  const cursors = sqliteCursors(db, step, clock, isLive);
  const scopes = sqliteTransactions(db, step, clock, isLive, cursors.dropSession);
  const { put: _put, remove: _remove, read: _read, touch: _touch, dropSession: _dropScopes, ...scopeMethods } = scopes;
  const { dropSession: _dropCursors, ...cursorMethods } = cursors;

  /** Removes a session and all it owns (scopes and cursors too); its live holds are released (claims stay). */
  function removeSession(id: string): StoredHold[] {
    q.deleteRecords.run(id);
    q.deleteSession.run(id);
    scopes.dropSession(id);
    cursors.dropSession(id);
    return holds.dropSession(id);
  }

  // The raw privilege change, shared with the users part (login) inside its own steps.
  function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null {
    const row = getRow(id);
    if (!row || row.next_timeout <= clock()) return null;
    const keys = rotated(toKeys(row), next, 0);
    q.setPrivilege.run({ id, user: user === null ? null : JSON.stringify(user), key_hash: keys.keyHash, superseded: keys.superseded });
    users.dropPendingRoles(id);
    return { ...toSession(row), user };
  }

  const users = sqliteUsers<SessionRow>({ db, step, clock, toSession, setPrivilege, removeSession });

  // The session row and whether it has scope state, in one read (scopes' table exists from here on).
  const getForAuth = db.prepare<[string]>(`SELECT ${SESSION_COLUMNS}, EXISTS (SELECT 1 FROM scopes WHERE session_id = s.id)
    FROM sessions s WHERE s.id = ?`).raw(true);

  const authenticate = step((req: AuthRequest): Authentication => {
    const now = clock();
    const raw = getForAuth.get(req.id) as unknown[] | undefined;
    const row = raw && sessionRow(raw);
    const hasScopes = raw?.[15] === 1;
    if (!row || row.next_timeout <= now || (req.client !== null && row.client !== req.client)) return { outcome: 'invalid' };
    const keys = toKeys(row);
    const check = checkKey(keys, req.keyHash, now);
    if (check === 'unknown') return { outcome: 'invalid' };
    const session = toSession(row);
    if (check === 'replayed') {
      inSavepoint(() => removeSession(req.id));
      return { outcome: 'replayed', session };
    }
    session.lastAccessAt = now;
    session.nextTimeout = nextTimeoutOf(session, now);
    const write = (): Authentication => {
      // A role change made by an admin: served under the new roles, with a new key and no grace.
      const roles = session.user && req.rotation ? users.takePendingRoles(req.id, session.user.name) : null;
      if (roles) {
        const next = rotated(keys, req.rotation!, 0);
        session.user = { name: session.user!.name, roles };
        q.rotate.run(now, session.nextTimeout, next.keyHash, next.superseded, 0, null, req.id);
        q.setUser.run(JSON.stringify(session.user), req.id);
        return { outcome: 'current', session, privilegeChanged: true, scopes: hasScopes };
      }
      if (check === 'current' && req.rotation && session.rotation === 'per-request') {
        const next = rotated(keys, req.rotation, now + req.graceMs);
        q.rotate.run(now, session.nextTimeout, next.keyHash, next.superseded, next.graceUntil, next.graceSalt, req.id);
      } else {
        q.touch.run(now, session.nextTimeout, req.id);
      }
      const written = req.write && !hasScopes ? unlessRefused(() => writeRecord(req.id, req.write!, now)) : undefined;
      return check === 'grace'
        ? { outcome: 'grace', session, graceSalt: keys.graceSalt!, scopes: hasScopes, written }
        : { outcome: 'current', session, scopes: hasScopes, written };
    };
    // Without a user there is no pending role change to take, and without a record write it is one write: no savepoint needed.
    return (session.user && req.rotation) || req.write ? inSavepoint(write) : write();
  }, { savepoint: false });

  const changePrivilege = step(setPrivilege);

  const putRecord = step((id: string, w: RecordWrite): StoredRecord => {
    const now = clock();
    requireLive(id, now);
    if (scopes.depth(id) > 0) return inSavepoint(() => scopes.put(id, w, now)!);
    return writeRecord(id, w, now);
  }, { savepoint: false });

  /** A record write outside any scope; throws its refusal before writing anything. */
  function writeRecord(id: string, w: RecordWrite, now: number): StoredRecord {
    const key = w.key ?? '';
    const [liveKind, liveEntries, liveVersion] = q.liveName.get(key, id, w.name, now) as [RecordKind | null, number, number | null];
    const version = planWrite(w, {
      liveKind,
      currentVersion: liveVersion ?? 0,
      liveEntries,
      liveRecords: liveKind === null ? (q.recordCount.get({ id, now }) as number) : 0,
    });
    const expires_at = w.ttlMs === null ? null : now + w.ttlMs;
    const upsert = () => q.upsert.run(id, w.name, key, w.kind, w.value, version, now, w.ttlMs, expires_at);
    if (liveKind === null) {
      inSavepoint(() => {
        q.dropName.run({ id, name: w.name }); // expired leftovers: the record starts fresh
        upsert();
      });
    } else {
      upsert();
    }
    return { name: w.name, key: w.key, kind: w.kind, value: w.value, version, updatedAt: now, ttlMs: w.ttlMs, expiresAt: expires_at };
  }

  const deleteRecord = step((id: string, name: string, key: string | null, ifVersion: number | null): boolean => {
    const now = clock();
    requireLive(id, now);
    const scoped = scopes.remove(id, name, key, ifVersion, now);
    if (scoped !== null) return scoped;
    if (key === null) {
      const first = (q.record.all({ id, name, now }) as RecordRow[])[0];
      if (!first) return false;
      checkDelete(ifVersion, first, true);
      q.dropName.run({ id, name });
      return true;
    }
    const current = q.entry.get({ id, name, key, now }) as RecordRow | undefined;
    if (!current || current.kind !== 'multiple') return false;
    checkDelete(ifVersion, current, false);
    q.deleteEntry.run({ id, name, key });
    return true;
  });

  const readRecords = step((id: string, name: string | null): StoredRecord[] => {
    const now = clock();
    requireLive(id, now);
    const scoped = scopes.read(id, name, now);
    if (scoped) return scoped;
    const rows = (name === null ? q.records.all({ id, now }) : q.record.all({ id, name, now })) as RecordRow[];
    return rows.map(toRecord);
  });

  const endSession = step((id: string): EndedSession | null => {
    const row = getRow(id);
    if (!row) return null;
    return { ...toSession(row), releasedHolds: removeSession(id) };
  });

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
    q.expiredRecords.run(now, limit);
    users.sweep(now, limit);
    return expired;
  });

  return {
    kind: 'sqlite',
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
    changePrivilege,
    putRecord,
    getRecord: (id, name) => readRecords(id, name),
    listRecords: (id) => readRecords(id, null),
    deleteRecord,
    touchRecords: step((id: string) => {
      const now = clock();
      requireLive(id, now);
      q.touchRecords.run({ id, now });
      scopes.touch(id, now);
    }),
    endSession,
    sweepExpired,
    ...holdMethods,
    ...users.methods,
    ...scopeMethods,
    ...cursorMethods,
    async ping() { db.prepare('SELECT 1').get(); },
    async close() {
      if (db.inTransaction) commitTurn();
      await checkpointer?.stop();
      checkpointer = null;
      if (db.open) db.close();
    },
  };
}
