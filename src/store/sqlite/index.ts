import { statSync } from 'node:fs';
import { systemClock, type Clock } from '../../core/clock.js';
import type { SessionStore } from '../contract.js';
import { sqliteCursors } from './cursors.js';
import { openDatabase, type SqliteDatabaseOptions } from './database.js';
import { sqliteHolds } from './holds.js';
import { sqliteRecords } from './records.js';
import { sqliteSessionReader, sqliteSessions, toSession, type SessionRow } from './sessions.js';
import { sqliteTransactions } from './transactions.js';
import { sqliteUsers } from './users.js';

export interface SqliteStoreOptions extends SqliteDatabaseOptions {
  /** The store's clock. @default Date.now */
  clock?: Clock;
}

/**
 * The embedded default: one SQLite file in WAL mode (database.ts; its schema:
 * schema.ts); every contract step is one transaction. One file per slice of
 * the contract; this one only assembles them.
 */
export function createSqliteStore(options: SqliteStoreOptions): SessionStore {
  const clock = options.clock ?? systemClock;
  const sql = openDatabase(options);
  const { isLive, getRow } = sqliteSessionReader(sql);
  const holds = sqliteHolds(sql, clock, {
    liveSession: (id, now) => {
      const row = getRow(id);
      return row && row.next_timeout > now ? toSession(row) : null;
    },
  });
  const cursors = sqliteCursors(sql, clock, { isLive });
  const transactions = sqliteTransactions(sql, clock, { isLive, dropCursors: cursors.dropSession });
  const records = sqliteRecords(sql, clock, { isLive, transactions });
  // users and sessions call each other (login changes a session; a new password ends them)
  const users = sqliteUsers<SessionRow>(sql, clock, {
    toSession,
    setPrivilege: (id, next, user) => sessions.setPrivilege(id, next, user),
    removeSession: (id) => sessions.removeSession(id),
  });
  const sessions = sqliteSessions(sql, clock, { records, holds, users, transactions, cursors });

  const countSessions = sql.db.prepare('SELECT count(*) FROM sessions').pluck();
  const countHolds = sql.db.prepare('SELECT count(*) FROM holds').pluck();

  return {
    kind: 'sqlite',
    ...sessions.steps,
    ...records.steps,
    ...holds.steps,
    ...users.steps,
    ...transactions.steps,
    ...cursors.steps,
    countLive: sql.step(() => ({ sessions: countSessions.get() as number, holds: countHolds.get() as number }), { savepoint: false }),
    stats() {
      if (options.path === ':memory:') return {};
      try {
        return { sqliteWalBytes: statSync(`${options.path}-wal`).size };
      } catch {
        return { sqliteWalBytes: 0 };
      }
    },
    async ping() { sql.db.prepare('SELECT 1').get(); },
    close: () => sql.close(),
  };
}
