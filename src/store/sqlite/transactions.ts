import type { Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import {
  mergeNotes, NAME_MARK, noteHeld, overlay, planHoldRollback, planScopedDelete, planScopedWrite, rowOrder,
  type HoldNote, type ScopeOp, type ScopeRow,
} from '../../core/transactions.js';
import type { AcquiredHold, RecordKind, RecordWrite, TransactionRollback, TransactionState, StoredHold, StoredRecord, TransactionSteps, UpkeepSteps } from '../contract.js';
import type { SqliteDatabase } from './database.js';

/**
 * Scopes of the SQLite engine. The contract methods are `step`s; the record
 * helpers run inside records.ts's steps (same savepoint), and answer
 * null when the session has no scope open, so the record step goes on as before.
 */
export interface SqliteTransactions {
  steps: TransactionSteps & Pick<UpkeepSteps, 'sweepExpiredTransactions'>;
  /** How many scopes the session has open (0: none). */
  depth(id: string): number;
  /** A write into the innermost scope; null when none is open. */
  put(id: string, w: RecordWrite, now: number): StoredRecord | null;
  /** A delete inside the innermost scope (false: nothing live there); null when none is open. */
  remove(id: string, name: string, key: string | null, ifVersion: number | null, now: number): boolean | null;
  /** What the session sees of one record (or all, name null); null when no scope is open. */
  read(id: string, name: string | null, now: number): StoredRecord[] | null;
  /** Restarts the expiry clock of every buffered entry with a ttl. */
  touch(id: string, now: number): void;
  /** Removes every scope of a session (inside the caller's step). */
  dropSession(id: string): void;
}

/**
 * Tables (schema.ts): `scopes` holds one row per
 * session with scopes open (depth > 0), or with an abort not yet reported
 * (depth 0, aborted 1). `scope_entries` are the buffered writes (op put, del,
 * drop; see core/transactions.ts); `scope_holds` the holds each depth took.
 */

interface HeadRow { depth: number; deadline: number; aborted: number }
interface EntryRow {
  depth: number; name: string; key: string; op: ScopeOp; kind: RecordKind; value: string; version: number;
  updated_at: number; ttl_ms: number | null; expires_at: number | null;
}
interface NoteRow { depth: number; name: string; token: number; quantity: number | null }
interface HoldRow { session_id: string; name: string; quantity: number | null; token: number; expires_at: number }

const toRecord = (r: Omit<EntryRow, 'depth' | 'op'>): StoredRecord => ({
  name: r.name, key: r.kind === 'single' ? null : r.key, kind: r.kind, value: r.value, version: r.version,
  updatedAt: r.updated_at, ttlMs: r.ttl_ms, expiresAt: r.expires_at,
});
const toRow = (r: EntryRow): ScopeRow => ({ depth: r.depth, name: r.name, key: r.key, op: r.op, record: r.op === 'put' ? toRecord(r) : null });

export function sqliteTransactions(sql: SqliteDatabase, clock: Clock, deps: {
  isLive: (id: string, now: number) => boolean;
  /** Closes every cursor of a session (endTransactions does, before a transfer). */
  dropCursors: (id: string) => void;
}): SqliteTransactions {
  const { db, step } = sql;
  const { isLive, dropCursors } = deps;
  const LIVE = '(expires_at IS NULL OR expires_at > @now)';
  const q = {
    head: db.prepare<[string]>('SELECT depth, deadline, aborted FROM scopes WHERE session_id = ?'),
    setHead: db.prepare(`INSERT INTO scopes VALUES (@id, @depth, @deadline, @aborted)
      ON CONFLICT (session_id) DO UPDATE SET depth = excluded.depth, deadline = excluded.deadline, aborted = excluded.aborted`),
    deleteHead: db.prepare<[string]>('DELETE FROM scopes WHERE session_id = ?'),
    due: db.prepare<[number, number]>('SELECT session_id FROM scopes WHERE depth > 0 AND deadline <= ? ORDER BY deadline LIMIT ?').pluck(),
    rows: db.prepare<[string]>('SELECT * FROM scope_entries WHERE session_id = ?'),
    rowsOfName: db.prepare<[string, string]>('SELECT * FROM scope_entries WHERE session_id = ? AND name = ?'),
    rowsAt: db.prepare<[string, number]>('SELECT * FROM scope_entries WHERE session_id = ? AND depth = ?'),
    putRow: db.prepare(`INSERT OR REPLACE INTO scope_entries VALUES (@id, @depth, @name, @key, @op, @kind, @value, @version,
      @updated_at, @ttl_ms, @expires_at)`),
    dropRowsOfName: db.prepare('DELETE FROM scope_entries WHERE session_id = @id AND depth = @depth AND name = @name'),
    // Merging depth d into its parent: a drop at d replaces the parent's rows of its name, then d's rows replace the parent's.
    mergeDrops: db.prepare(`DELETE FROM scope_entries WHERE session_id = @id AND depth = @parent AND name IN
      (SELECT name FROM scope_entries WHERE session_id = @id AND depth = @depth AND op = 'drop')`),
    mergeRows: db.prepare(`INSERT OR REPLACE INTO scope_entries SELECT session_id, @parent, name, key, op, kind, value, version,
      updated_at, ttl_ms, expires_at FROM scope_entries WHERE session_id = @id AND depth = @depth`),
    deleteFrom: db.prepare('DELETE FROM scope_entries WHERE session_id = @id AND depth >= @depth'),
    touchRows: db.prepare(`UPDATE scope_entries SET expires_at = @now + ttl_ms
      WHERE session_id = @id AND op = 'put' AND ttl_ms IS NOT NULL AND expires_at > @now`),
    notesAt: db.prepare<[string, number]>('SELECT * FROM scope_holds WHERE session_id = ? AND depth = ?'),
    notesFrom: db.prepare<[string, number]>('SELECT * FROM scope_holds WHERE session_id = ? AND depth >= ? ORDER BY depth DESC'),
    putNote: db.prepare('INSERT OR REPLACE INTO scope_holds VALUES (@id, @depth, @name, @token, @quantity)'),
    deleteNotesFrom: db.prepare<[string, number]>('DELETE FROM scope_holds WHERE session_id = ? AND depth >= ?'),
    // The committed records, as records.ts keeps them.
    baseName: db.prepare(`SELECT * FROM records WHERE session_id = @id AND name = @name AND ${LIVE}`),
    baseAll: db.prepare(`SELECT * FROM records WHERE session_id = @id AND ${LIVE}`),
    upsert: db.prepare(`INSERT INTO records VALUES (@id, @name, @key, @kind, @value, @version, @updated_at, @ttl_ms, @expires_at)
      ON CONFLICT (session_id, name, key) DO UPDATE SET kind = excluded.kind, value = excluded.value,
      version = excluded.version, updated_at = excluded.updated_at, ttl_ms = excluded.ttl_ms, expires_at = excluded.expires_at`),
    dropName: db.prepare('DELETE FROM records WHERE session_id = @id AND name = @name'),
    deleteEntry: db.prepare('DELETE FROM records WHERE session_id = @id AND name = @name AND key = @key'),
    // The session's holds, as holds.ts keeps them.
    hold: db.prepare<[string, string]>('SELECT * FROM holds WHERE session_id = ? AND name = ?'),
    dropHold: db.prepare<[string, string]>('DELETE FROM holds WHERE session_id = ? AND name = ?'),
    shrinkHold: db.prepare<[number, string, string]>('UPDATE holds SET quantity = ? WHERE session_id = ? AND name = ?'),
  };

  const depthOf = (id: string) => (q.head.get(id) as HeadRow | undefined)?.depth ?? 0;
  const setHead = (id: string, depth: number, deadline: number, aborted = 0) => {
    if (depth === 0 && aborted === 0) q.deleteHead.run(id);
    else q.setHead.run({ id, depth, deadline, aborted });
  };
  const baseOf = (id: string, name: string | null, now: number) =>
    ((name === null ? q.baseAll.all({ id, now }) : q.baseName.all({ id, name, now })) as EntryRow[]).map(toRecord);
  const rowsOf = (id: string, name: string | null) =>
    ((name === null ? q.rows.all(id) : q.rowsOfName.all(id, name)) as EntryRow[]).map(toRow);
  const view = (id: string, name: string | null, now: number) => overlay(baseOf(id, name, now), rowsOf(id, name), now);

  function putRow(id: string, depth: number, name: string, key: string, op: ScopeOp, r: StoredRecord | null): void {
    q.putRow.run({
      id, depth, name, key, op, kind: r?.kind ?? null, value: r?.value ?? null, version: r?.version ?? null,
      updated_at: r?.updatedAt ?? null, ttl_ms: r?.ttlMs ?? null, expires_at: r?.expiresAt ?? null,
    });
  }

  /** Discards depths `from` and up: releases the holds they took (innermost first), deletes their rows. */
  function discardFrom(id: string, from: number, now: number): StoredHold[] {
    const released: StoredHold[] = [];
    for (const n of q.notesFrom.all(id, from) as NoteRow[]) {
      const row = q.hold.get(id, n.name) as HoldRow | undefined;
      const current = row && { name: row.name, sessionId: id, quantity: row.quantity, token: row.token, expiresAt: row.expires_at };
      const plan = planHoldRollback(n, current, now);
      if (plan === 'drop') {
        q.dropHold.run(id, n.name);
        released.push(current!);
      } else if (typeof plan === 'number') {
        q.shrinkHold.run(plan, id, n.name);
      }
    }
    q.deleteNotesFrom.run(id, from);
    q.deleteFrom.run({ id, depth: from });
    return released;
  }

  function requireLive(id: string, now: number): void {
    if (!isLive(id, now)) throw new TesseraError('SESSION_INVALID');
  }

  function requireOpen(id: string): number {
    const depth = depthOf(id);
    if (depth === 0) throw new TesseraError('TRANSACTION_NOT_OPEN');
    return depth;
  }

  /** Depth 1 into the records: drops first, then puts and entry deletes, all in the caller's step. */
  function apply(id: string): void {
    for (const row of rowsOf(id, null).sort(rowOrder)) {
      if (row.op === 'drop') q.dropName.run({ id, name: row.name });
      else if (row.op === 'del') q.deleteEntry.run({ id, name: row.name, key: row.key });
      else {
        const r = row.record!;
        q.upsert.run({ id, name: r.name, key: row.key, kind: r.kind, value: r.value, version: r.version,
          updated_at: r.updatedAt, ttl_ms: r.ttlMs, expires_at: r.expiresAt });
      }
    }
  }

  return {
    depth: depthOf,

    put(id, w, now) {
      const depth = depthOf(id);
      if (depth === 0) return null;
      const { record, fresh } = planScopedWrite(w, view(id, w.name, now), () => view(id, null, now), now);
      if (fresh) {
        q.dropRowsOfName.run({ id, depth, name: w.name });
        putRow(id, depth, w.name, NAME_MARK, 'drop', null);
      }
      putRow(id, depth, w.name, w.key ?? '', 'put', record);
      return record;
    },

    remove(id, name, key, ifVersion, now) {
      const depth = depthOf(id);
      if (depth === 0) return null;
      const op = planScopedDelete(key, ifVersion, view(id, name, now));
      if (op === null) return false;
      if (op === 'drop') q.dropRowsOfName.run({ id, depth, name });
      putRow(id, depth, name, op === 'drop' ? NAME_MARK : key!, op, null);
      return true;
    },

    read(id, name, now) {
      return depthOf(id) === 0 ? null : view(id, name, now);
    },

    touch(id, now) {
      q.touchRows.run({ id, now });
    },

    // The session's holds go with it (sessions.ts releases them all), so only the scope rows go here.
    dropSession(id) {
      q.deleteNotesFrom.run(id, 1);
      q.deleteFrom.run({ id, depth: 1 });
      q.deleteHead.run(id);
    },

    steps: {
      enterTransactions: step((id: string, timeoutMs: number): TransactionState => {
        const now = clock();
        const head = q.head.get(id) as HeadRow | undefined;
        if (!head) return { depth: 0, aborted: false, released: [] };
        if (head.depth > 0 && head.deadline <= now) {
          const released = discardFrom(id, 1, now);
          q.deleteHead.run(id);
          return { depth: 0, aborted: true, released };
        }
        if (head.aborted) {
          setHead(id, head.depth, head.deadline, 0);
          return { depth: head.depth, aborted: true, released: [] };
        }
        setHead(id, head.depth, now + timeoutMs);
        return { depth: head.depth, aborted: false, released: [] };
      }),

      openTransaction: step((id: string, timeoutMs: number, maxDepth: number) => {
        const now = clock();
        requireLive(id, now);
        const depth = depthOf(id);
        if (depth >= maxDepth) throw new TesseraError('LIMIT_EXCEEDED', `At most ${maxDepth} transactions may be open at once.`, { limit: maxDepth });
        setHead(id, depth + 1, now + timeoutMs);
        return depth + 1;
      }),

      commitTransaction: step((id: string, timeoutMs: number) => {
        const now = clock();
        requireLive(id, now);
        const depth = requireOpen(id);
        if (depth > 1) {
          const ids = { id, depth, parent: depth - 1 };
          q.mergeDrops.run(ids);
          q.mergeRows.run(ids);
          const parent = new Map((q.notesAt.all(id, depth - 1) as NoteRow[]).map((n) => [n.name, n as HoldNote]));
          mergeNotes(parent, q.notesAt.all(id, depth) as NoteRow[]);
          q.deleteNotesFrom.run(id, depth);
          for (const n of parent.values()) q.putNote.run({ id, depth: depth - 1, name: n.name, token: n.token, quantity: n.quantity });
          q.deleteFrom.run({ id, depth });
        } else {
          apply(id);
          q.deleteNotesFrom.run(id, 1);
          q.deleteFrom.run({ id, depth: 1 });
        }
        setHead(id, depth - 1, now + timeoutMs);
        return depth - 1;
      }),

      rollbackTransaction: step((id: string, all: boolean, timeoutMs: number): TransactionRollback => {
        const now = clock();
        requireLive(id, now);
        const depth = requireOpen(id);
        const from = all ? 1 : depth;
        const released = discardFrom(id, from, now);
        setHead(id, from - 1, now + timeoutMs);
        return { sessionId: id, depth: from - 1, released };
      }),

      noteTransactionHolds: step((id: string, held: AcquiredHold[], added: number | null) => {
        const depth = depthOf(id);
        if (depth === 0) return;
        const notes = new Map((q.notesAt.all(id, depth) as NoteRow[]).map((n) => [n.name, n as HoldNote]));
        noteHeld(notes, held, added);
        for (const n of notes.values()) q.putNote.run({ id, depth, name: n.name, token: n.token, quantity: n.quantity });
      }),

      endTransactions: step((id: string) => {
        const released = discardFrom(id, 1, clock());
        q.deleteHead.run(id);
        dropCursors(id);
        return released;
      }),

      sweepExpiredTransactions: step((limit: number) => {
        const now = clock();
        return (q.due.all(now, limit) as string[]).map((id): TransactionRollback => {
          const released = discardFrom(id, 1, now);
          setHead(id, 0, now, 1);
          return { sessionId: id, depth: 0, released };
        });
      }),
    },
  };
}
