import type Database from 'better-sqlite3';

/**
 * The SQLite engine's schema: every table, index and trigger, under ONE
 * version (PRAGMA user_version), with the migrations that bring an older
 * file up to it. A new file runs every migration in order.
 *
 * - Version 1 made `sessions` and `records`. Tessera before this file also
 *   created the other tables on every open (CREATE ... IF NOT EXISTS, outside
 *   the version), so a version-1 file may already have some or all of them.
 * - Version 2 is every table of version 1 plus holds, fences, pools, claims,
 *   users, the user index of sessions, pending role changes, login attempts,
 *   transactions (scopes) and cursors. Its migration creates each one only if
 *   missing, so both a version-1 file with them and one without open.
 *
 * A migration is one step in the list below; add one (never edit a past one)
 * to change the schema, and raise SCHEMA_VERSION with it.
 */
export const SCHEMA_VERSION = 2;

/** MIGRATIONS[v] takes a database from version v to v + 1. */
const MIGRATIONS: readonly string[] = [
  // 0 -> 1: sessions and records
  `
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
`,
  // 1 -> 2: every other table, under the version from now on
  `
-- holds, pools, fences and claims
CREATE TABLE IF NOT EXISTS holds (
  session_id TEXT NOT NULL,
  name       TEXT NOT NULL,
  quantity   INTEGER,
  token      INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  announced  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS holds_by_name ON holds (name, expires_at);
CREATE INDEX IF NOT EXISTS holds_by_expiry ON holds (expires_at) WHERE announced = 0;
CREATE TABLE IF NOT EXISTS fences (name TEXT PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY, capacity INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
  name         TEXT NOT NULL,
  session_id   TEXT NOT NULL,
  quantity     INTEGER,
  token        INTEGER NOT NULL,
  confirmed_at INTEGER NOT NULL,
  PRIMARY KEY (name, session_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claims_by_session ON claims (session_id);
-- users, the user index of sessions, pending role changes, login throttling
CREATE TABLE IF NOT EXISTS users (
  name          TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (json_extract(user, '$.name'), id) WHERE user IS NOT NULL;
CREATE TABLE IF NOT EXISTS pending_roles (
  session_id TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  roles      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS pending_roles_end AFTER DELETE ON sessions
  BEGIN DELETE FROM pending_roles WHERE session_id = old.id; END;
CREATE TABLE IF NOT EXISTS login_attempts (
  key        TEXT PRIMARY KEY,
  log        TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS login_attempts_by_expiry ON login_attempts (expires_at);
-- transactions: one head row per session with scopes, their buffered writes and holds
CREATE TABLE IF NOT EXISTS scopes (
  session_id TEXT PRIMARY KEY,
  depth      INTEGER NOT NULL,
  deadline   INTEGER NOT NULL,
  aborted    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scopes_by_deadline ON scopes (deadline) WHERE depth > 0;
CREATE TABLE IF NOT EXISTS scope_entries (
  session_id TEXT NOT NULL,
  depth      INTEGER NOT NULL,
  name       TEXT NOT NULL,
  key        TEXT NOT NULL,
  op         TEXT NOT NULL,
  kind       TEXT,
  value      TEXT,
  version    INTEGER,
  updated_at INTEGER,
  ttl_ms     INTEGER,
  expires_at INTEGER,
  PRIMARY KEY (session_id, depth, name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scope_holds (
  session_id TEXT NOT NULL,
  depth      INTEGER NOT NULL,
  name       TEXT NOT NULL,
  token      INTEGER NOT NULL,
  quantity   INTEGER,
  PRIMARY KEY (session_id, depth, name)
) WITHOUT ROWID;
-- cursors: one row per cursor, its snapshot one row per item
CREATE TABLE IF NOT EXISTS cursors (
  id         TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  page_size  INTEGER NOT NULL,
  total      INTEGER NOT NULL,
  position   INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  deadline   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cursors_by_session ON cursors (session_id);
CREATE INDEX IF NOT EXISTS cursors_by_deadline ON cursors (deadline);
CREATE TABLE IF NOT EXISTS cursor_items (
  cursor_id  TEXT NOT NULL,
  idx        INTEGER NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ttl_ms     INTEGER,
  expires_at INTEGER,
  PRIMARY KEY (cursor_id, idx)
) WITHOUT ROWID;
`,
];

/**
 * Brings the database to SCHEMA_VERSION, in one transaction. Refuses (closing
 * it) a file of a newer version, or one with a `sessions` table and no
 * version (not a Tessera file).
 */
export function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const foreign = version === 0
    && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").get() !== undefined;
  if (version > SCHEMA_VERSION || foreign) {
    db.close();
    throw new Error(`${path}: this database has schema version ${version}; this Tessera uses ${SCHEMA_VERSION}. `
      + 'Use a new file, or the Tessera version that wrote it.');
  }
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
