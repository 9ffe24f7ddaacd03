import { TesseraError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { checkDelete, planWrite } from '../../core/records.js';
import type { RecordKind, RecordSteps, RecordWrite, StoredRecord } from '../contract.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteTransactions } from './transactions.js';

export interface SqliteRecords {
  steps: RecordSteps;
  /** A record write outside any transaction, inside the caller's step; throws its refusal before writing anything. */
  write(id: string, w: RecordWrite, now: number): StoredRecord;
  /** Deletes every record of a session (inside the caller's step). */
  dropSession(id: string): void;
  /** Moves every record of a session to its new id (inside transferSession's step). */
  moveSession(oldId: string, newId: string): void;
  /** Deletes expired records, at most `limit` (inside the sweep's step). */
  sweep(now: number, limit: number): void;
}

interface RecordRow {
  name: string; key: string; kind: RecordKind; value: string; version: number;
  updated_at: number; ttl_ms: number | null; expires_at: number | null;
}

function toRecord(r: RecordRow): StoredRecord {
  return {
    name: r.name, key: r.kind === 'single' ? null : r.key, kind: r.kind, value: r.value, version: r.version,
    updatedAt: r.updated_at, ttlMs: r.ttl_ms, expiresAt: r.expires_at,
  };
}

/** Records of the SQLite engine; with a transaction open its steps go through the scopes (transactions.ts). */
export function sqliteRecords(sql: SqliteDatabase, clock: Clock, deps: {
  isLive: (id: string, now: number) => boolean;
  transactions: SqliteTransactions;
}): SqliteRecords {
  const { db, step, inSavepoint } = sql;
  const { isLive, transactions } = deps;
  const LIVE = '(expires_at IS NULL OR expires_at > @now)';
  const q = {
    // The live state of one record name in one read: its kind, its entry count, the version and the bytes of one entry.
    // octet_length: the UTF-8 bytes of the TEXT value (the database's encoding), valueBytes' measure.
    liveName: db.prepare<[string, string, string, string, number]>(`SELECT max(kind), count(*), max(CASE WHEN key = ? THEN version END),
      max(CASE WHEN key = ? THEN octet_length(value) END)
      FROM records WHERE session_id = ? AND name = ? AND (expires_at IS NULL OR expires_at > ?)`).raw(true),
    // The bytes of every live value of a session (the primary key's session_id prefix); asked only by a write that grows its entry.
    liveBytes: db.prepare<[string, number]>(`SELECT coalesce(sum(octet_length(value)), 0)
      FROM records WHERE session_id = ? AND (expires_at IS NULL OR expires_at > ?)`).pluck(),
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
    deleteRecords: db.prepare<[string]>('DELETE FROM records WHERE session_id = ?'),
    moveRecords: db.prepare('UPDATE records SET session_id = @new WHERE session_id = @old'),
    expiredRecords: db.prepare<[number, number]>(`DELETE FROM records WHERE (session_id, name, key) IN
      (SELECT session_id, name, key FROM records WHERE expires_at <= ? LIMIT ?)`),
  };

  function requireLive(id: string, now: number): void {
    if (!isLive(id, now)) throw new TesseraError('SESSION_INVALID');
  }

  function write(id: string, w: RecordWrite, now: number): StoredRecord {
    const key = w.key ?? '';
    const [liveKind, liveEntries, liveVersion, bytes] = q.liveName.get(key, key, id, w.name, now) as [RecordKind | null, number, number | null, number | null];
    const version = planWrite(w, {
      liveKind,
      currentVersion: liveVersion ?? 0,
      liveEntries,
      liveRecords: liveKind === null ? (q.recordCount.get({ id, now }) as number) : 0,
      currentBytes: bytes ?? 0,
      liveBytes: () => q.liveBytes.get(id, now) as number,
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

  const readRecords = step((id: string, name: string | null): StoredRecord[] => {
    const now = clock();
    requireLive(id, now);
    const scoped = transactions.read(id, name, now);
    if (scoped) return scoped;
    const rows = (name === null ? q.records.all({ id, now }) : q.record.all({ id, name, now })) as RecordRow[];
    return rows.map(toRecord);
  });

  const steps: RecordSteps = {
    putRecord: step((id: string, w: RecordWrite): StoredRecord => {
      const now = clock();
      requireLive(id, now);
      if (transactions.depth(id) > 0) return inSavepoint(() => transactions.put(id, w, now)!);
      return write(id, w, now);
    }, { savepoint: false }),

    getRecord: (id, name) => readRecords(id, name),
    listRecords: (id) => readRecords(id, null),

    deleteRecord: step((id: string, name: string, key: string | null, ifVersion: number | null): boolean => {
      const now = clock();
      requireLive(id, now);
      const scoped = transactions.remove(id, name, key, ifVersion, now);
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
    }),

    touchRecords: step((id: string) => {
      const now = clock();
      requireLive(id, now);
      q.touchRecords.run({ id, now });
      transactions.touch(id, now);
    }),
  };

  return {
    steps,
    write,
    dropSession: (id) => { q.deleteRecords.run(id); },
    moveSession: (oldId, newId) => { q.moveRecords.run({ old: oldId, new: newId }); },
    sweep: (now, limit) => { q.expiredRecords.run(now, limit); },
  };
}
