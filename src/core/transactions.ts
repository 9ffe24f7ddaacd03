import { invalid } from './errors.js';
import { QUERY_NUMBER } from './input.js';
import { checkDelete, isLive, planWrite, valueBytes } from './records.js';
import type { AcquiredHold, StoredHold } from './holds.js';
import type { RecordWrite, StoredRecord } from './records.js';

/**
 * The rules of scopes (docs/protocol.md#transactions-and-nested-scopes) and cursors (docs/protocol.md#cursors), shared by every
 * engine. A session has a stack of scopes, depth 1 to n. A scope buffers
 * record writes as rows keyed by (depth, record name, entry key):
 *
 * - `put`: the entry as it will be stored (value, version, times), computed
 *   when written, against what the session saw then;
 * - `del`: a tombstone for one entry of a multiple record;
 * - `drop`: a tombstone for a whole record name, under the key NAME_MARK: it
 *   hides every lower layer of that name. Rows of the same depth and name
 *   that are present were written after the drop (a drop deletes them).
 *
 * What the session sees is the committed records with the rows applied depth
 * by depth, drops first within a depth (`overlay`). Committing depth d > 1
 * merges its rows into d - 1 (a drop replaces the parent's rows of its name);
 * committing depth 1 applies them to the records in one step. Nobody else
 * ever reads the rows.
 */

/** Most scopes open at once in one session. */
export const MAX_DEPTH = 32;
/** The entry key of a `drop` row: entry keys never contain '/'. */
export const NAME_MARK = '/';

export type ScopeOp = 'put' | 'del' | 'drop';

export interface ScopeRow {
  depth: number;
  name: string;
  /** '' for a single record, the entry key, or NAME_MARK for a drop. */
  key: string;
  op: ScopeOp;
  /** The entry written (`put` only). */
  record: StoredRecord | null;
}

const dropFirst = (r: ScopeRow) => (r.op === 'drop' ? 0 : 1);

/** The order rows apply in: by depth, drops first within a depth. */
export function rowOrder(a: ScopeRow, b: ScopeRow): number {
  return a.depth - b.depth || dropFirst(a) - dropFirst(b);
}

/** Entries by name, then entry key (a single record's key is null: first). */
function recordOrder(a: StoredRecord, b: StoredRecord): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const ka = a.key ?? '';
  const kb = b.key ?? '';
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** What the session sees: the live committed entries with the scopes' rows applied, sorted. */
export function overlay(base: StoredRecord[], rows: ScopeRow[], now: number): StoredRecord[] {
  if (rows.length === 0) return base.filter((r) => isLive(r.expiresAt, now)).sort(recordOrder);
  const names = new Map<string, Map<string, StoredRecord>>();
  const slot = (name: string) => {
    let m = names.get(name);
    if (!m) names.set(name, (m = new Map()));
    return m;
  };
  for (const r of base) slot(r.name).set(r.key ?? '', r);
  for (const row of [...rows].sort(rowOrder)) {
    if (row.op === 'drop') names.delete(row.name);
    else if (row.op === 'del') names.get(row.name)?.delete(row.key);
    else slot(row.name).set(row.key, row.record!);
  }
  const out: StoredRecord[] = [];
  for (const m of names.values()) for (const r of m.values()) if (isLive(r.expiresAt, now)) out.push(r);
  return out.sort(recordOrder);
}

/**
 * A write inside a scope, checked with the rules of core/records.ts against
 * what the session sees (`view`: the live entries of that name; `all`: every
 * live entry it sees, asked only when the name count or the byte sum matters).
 * `fresh`: no entry of the name was live, so the write also drops the name's
 * older layers.
 */
export function planScopedWrite(w: RecordWrite, view: StoredRecord[], all: () => StoredRecord[], now: number): { record: StoredRecord; fresh: boolean } {
  const key = w.key ?? '';
  const current = view.find((r) => (r.key ?? '') === key);
  let seen: StoredRecord[] | undefined;
  const everything = () => (seen ??= all());
  const version = planWrite(w, {
    liveKind: view[0]?.kind ?? null,
    currentVersion: current ? current.version : 0,
    liveEntries: view.length,
    liveRecords: view.length === 0 ? new Set(everything().map((r) => r.name)).size : 0,
    currentBytes: current ? valueBytes(current.value) : 0,
    liveBytes: () => everything().reduce((sum, r) => sum + valueBytes(r.value), 0),
  });
  const record: StoredRecord = {
    name: w.name, key: w.key, kind: w.kind, value: w.value, version,
    updatedAt: now, ttlMs: w.ttlMs, expiresAt: w.ttlMs === null ? null : now + w.ttlMs,
  };
  return { record, fresh: view.length === 0 };
}

/** A delete inside a scope: the row to write, or null when nothing live is there. */
export function planScopedDelete(key: string | null, ifVersion: number | null, view: StoredRecord[]): 'drop' | 'del' | null {
  if (key === null) {
    if (view.length === 0) return null;
    checkDelete(ifVersion, view[0], true);
    return 'drop';
  }
  const current = view.find((r) => r.key === key);
  if (!current || current.kind !== 'multiple') return null;
  checkDelete(ifVersion, current, false);
  return 'del';
}

// ---- holds taken in a scope ---------------------------------------------------

/** A hold the scope took: the grant's token, and for a pool the units it added. */
export interface HoldNote {
  name: string;
  token: number;
  quantity: number | null;
}

/**
 * Notes what a hold step gave, in the innermost scope's notes. A fresh grant
 * is the scope's. Units added to a pool hold are the scope's. Extending a
 * resource held before the scope takes nothing.
 */
export function noteHeld(notes: Map<string, HoldNote>, held: AcquiredHold[], added: number | null): void {
  for (const h of held) {
    const n = notes.get(h.name);
    if (h.fresh) notes.set(h.name, { name: h.name, token: h.token, quantity: h.quantity });
    else if (h.quantity !== null && added !== null) {
      notes.set(h.name, { name: h.name, token: h.token, quantity: (n && n.token === h.token ? n.quantity ?? 0 : 0) + added });
    }
  }
}

/** A committed child scope's notes join its parent's. */
export function mergeNotes(parent: Map<string, HoldNote>, child: Iterable<HoldNote>): void {
  for (const c of child) {
    const p = parent.get(c.name);
    if (p && p.token === c.token) {
      if (p.quantity !== null && c.quantity !== null) p.quantity += c.quantity;
    } else {
      parent.set(c.name, { ...c });
    }
  }
}

/**
 * What a rollback does to the session's hold on a noted name: only the grant
 * the scope made (same token) and only while live (an expired one is left for
 * its expiry report); a pool gives back the units the scope added.
 */
export function planHoldRollback(note: HoldNote, current: StoredHold | undefined, now: number): 'keep' | 'drop' | number {
  if (!current || current.token !== note.token || current.expiresAt <= now) return 'keep';
  if (note.quantity === null || current.quantity === null) return 'drop';
  const left = current.quantity - note.quantity;
  return left > 0 ? left : 'drop';
}

// ---- cursors ------------------------------------------------------------------

/** Most open cursors per session. */
export const MAX_CURSORS = 32;
export const DEFAULT_PAGE = 10;
export const MAX_PAGE = 1000;

/** A page size (a JSON number) or a count (query text): a whole number 1 to MAX_PAGE. */
export function pageCount(v: unknown, field: string, fromQuery = false): number {
  const n = fromQuery && typeof v === 'string' && QUERY_NUMBER.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_PAGE) {
    throw invalid(`'${field}' must be a whole number from 1 to ${MAX_PAGE}.`, field);
  }
  return n;
}
