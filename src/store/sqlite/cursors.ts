import type { Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import type { CursorSteps, RecordKind, StoredRecord, UpkeepSteps } from '../contract.js';
import type { SqliteDatabase } from './database.js';

export interface SqliteCursors {
  steps: CursorSteps & Pick<UpkeepSteps, 'sweepExpiredCursors'>;
  /** Removes every cursor of a session (call inside the caller's step). */
  dropSession(id: string): void;
}


interface CursorRow {
  id: string; session_id: string; name: string; kind: RecordKind; page_size: number; total: number;
  position: number; timeout_ms: number; deadline: number;
}
interface ItemRow { key: string; value: string; version: number; updated_at: number; ttl_ms: number | null; expires_at: number | null }

/** Cursors of the SQLite engine: every method is one `step`, so a restart or another process can page them. */
export function sqliteCursors(sql: SqliteDatabase, clock: Clock, deps: { isLive: (id: string, now: number) => boolean }): SqliteCursors {
  const { db, step } = sql;
  const { isLive } = deps;
  const q = {
    count: db.prepare<[string, number]>('SELECT count(*) FROM cursors WHERE session_id = ? AND deadline > ?').pluck(),
    insert: db.prepare(`INSERT INTO cursors VALUES (@id, @session_id, @name, @kind, @page_size, @total, 0, @timeout_ms, @deadline)`),
    insertItem: db.prepare(`INSERT INTO cursor_items VALUES (@cursor_id, @idx, @key, @value, @version, @updated_at, @ttl_ms, @expires_at)`),
    get: db.prepare<[string]>('SELECT * FROM cursors WHERE id = ?'),
    page: db.prepare<[string, number, number]>('SELECT * FROM cursor_items WHERE cursor_id = ? AND idx >= ? ORDER BY idx LIMIT ?'),
    advance: db.prepare<[number, number, string]>('UPDATE cursors SET position = ?, deadline = ? WHERE id = ?'),
    delete: db.prepare<[string]>('DELETE FROM cursors WHERE id = ?'),
    deleteItems: db.prepare<[string]>('DELETE FROM cursor_items WHERE cursor_id = ?'),
    ofSession: db.prepare<[string]>('SELECT id FROM cursors WHERE session_id = ?').pluck(),
    due: db.prepare<[number, number]>('SELECT id FROM cursors WHERE deadline <= ? ORDER BY deadline LIMIT ?').pluck(),
  };

  function remove(id: string): void {
    q.deleteItems.run(id);
    q.delete.run(id);
  }

  /** The cursor if it is this session's and live; an expired one is removed on the way. */
  function live(sessionId: string, cursorId: string, now: number): CursorRow | null {
    const row = q.get.get(cursorId) as CursorRow | undefined;
    if (!row || row.session_id !== sessionId) return null;
    if (row.deadline <= now) {
      remove(cursorId);
      return null;
    }
    return row;
  }

  return {
    dropSession(id) {
      for (const c of q.ofSession.all(id) as string[]) remove(c);
    },

    steps: {
      openCursor: step((sessionId: string, c: { id: string; name: string; pageSize: number; items: StoredRecord[]; timeoutMs: number }, maxCursors: number) => {
        const now = clock();
        if (!isLive(sessionId, now)) throw new TesseraError('SESSION_INVALID');
        if ((q.count.get(sessionId, now) as number) >= maxCursors) {
          throw new TesseraError('LIMIT_EXCEEDED', `A session keeps at most ${maxCursors} open cursors.`, { limit: maxCursors });
        }
        q.insert.run({
          id: c.id, session_id: sessionId, name: c.name, kind: c.items[0]?.kind ?? 'multiple', page_size: c.pageSize,
          total: c.items.length, timeout_ms: c.timeoutMs, deadline: now + c.timeoutMs,
        });
        c.items.forEach((r, idx) => q.insertItem.run({
          cursor_id: c.id, idx, key: r.key ?? '', value: r.value, version: r.version, updated_at: r.updatedAt,
          ttl_ms: r.ttlMs, expires_at: r.expiresAt,
        }));
      }),

      readCursor: step((sessionId: string, cursorId: string, count: number | null) => {
        const now = clock();
        const row = live(sessionId, cursorId, now);
        if (!row) return null;
        const items = (q.page.all(cursorId, row.position, count ?? row.page_size) as ItemRow[]).map((r): StoredRecord => ({
          name: row.name, key: r.key, kind: row.kind, value: r.value, version: r.version,
          updatedAt: r.updated_at, ttlMs: r.ttl_ms, expiresAt: r.expires_at,
        }));
        const position = row.position + items.length;
        q.advance.run(position, now + row.timeout_ms, cursorId);
        return { items, position, total: row.total };
      }),

      closeCursor: step((sessionId: string, cursorId: string) => {
        if (!live(sessionId, cursorId, clock())) return false;
        remove(cursorId);
        return true;
      }),

      sweepExpiredCursors: step((limit: number) => {
        const due = q.due.all(clock(), limit) as string[];
        due.forEach(remove);
        return due.length;
      }),
    },
  };
}
