import { TesseraError } from '../../core/errors.js';
import { ExpiryWheel } from '../../core/expiry-wheel.js';
import { isLive } from '../../core/records.js';
import {
  mergeNotes, NAME_MARK, noteHeld, overlay, planHoldRollback, planScopedDelete, planScopedWrite, rowOrder,
  type HoldNote, type ScopeOp, type ScopeRow,
} from '../../core/transactions.js';
import type { RecordWrite, TransactionRollback, StoredHold, StoredRecord, TransactionSteps, UpkeepSteps } from '../contract.js';
import type { MemoryHolds } from './holds.js';
import type { MemoryEntry, MemoryState } from './state.js';

/** Transactions of the memory engine; the record helpers run inside records.ts's steps and answer null when no scope is open. */
export interface MemoryTransactions {
  steps: TransactionSteps & Pick<UpkeepSteps, 'sweepExpiredTransactions'>;
  /** Whether the session has scopes open or an abort to report. */
  hasState(id: string): boolean;
  put(e: MemoryEntry, w: RecordWrite, now: number): StoredRecord | null;
  remove(e: MemoryEntry, name: string, key: string | null, ifVersion: number | null, now: number): boolean | null;
  read(e: MemoryEntry, name: string | null, now: number): StoredRecord[] | null;
  touch(id: string, now: number): void;
  dropSession(id: string): void;
}

interface Layer {
  /** `name \n key` -> row. */
  rows: Map<string, ScopeRow>;
  notes: Map<string, HoldNote>;
}

interface Head {
  layers: Layer[];
  deadline: number;
  /** Rolled back for idling, not reported yet. */
  aborted: boolean;
}

const slot = (name: string, key: string) => `${name}\n${key}`;

/** Each method is one synchronous pass over the maps (no await inside), so it is atomic in this process. */
export function memoryTransactions(state: MemoryState, deps: {
  holds: MemoryHolds;
  /** Closes every cursor of a session (endTransactions does, before a transfer). */
  dropCursors: (id: string) => void;
}): MemoryTransactions {
  const { clock, sessions } = state;
  const { holds, dropCursors } = deps;
  const heads = new Map<string, Head>();
  const wheel = new ExpiryWheel<string>(clock());

  const rowsOf = (h: Head, name: string | null) => h.layers.flatMap((l, i) =>
    [...l.rows.values()].filter((r) => name === null || r.name === name).map((r) => ({ ...r, depth: i + 1 })));
  const baseOf = (e: MemoryEntry, name: string | null) => (name === null ? [...e.records.values()] : [e.records.get(name)])
    .flatMap((m) => [...m?.values() ?? []]);
  const view = (e: MemoryEntry, h: Head, name: string | null, now: number) => overlay(baseOf(e, name), rowsOf(h, name), now);

  function requireLive(id: string, now: number): MemoryEntry {
    const e = sessions.get(id);
    if (!e || e.session.nextTimeout <= now) throw new TesseraError('SESSION_INVALID');
    return e;
  }

  function requireOpen(id: string): Head {
    const h = heads.get(id);
    if (!h || h.layers.length === 0) throw new TesseraError('TRANSACTION_NOT_OPEN');
    return h;
  }

  function setDeadline(id: string, h: Head, deadline: number): void {
    h.deadline = deadline;
    if (h.layers.length > 0) wheel.set(id, deadline);
    else wheel.delete(id);
    if (h.layers.length === 0 && !h.aborted) heads.delete(id);
  }

  function put(l: Layer, name: string, key: string, op: ScopeOp, record: StoredRecord | null): void {
    l.rows.set(slot(name, key), { depth: 0, name, key, op, record });
  }

  function dropRowsOfName(l: Layer, name: string): void {
    for (const [k, r] of l.rows) if (r.name === name) l.rows.delete(k);
  }

  /** Discards the layers from depth `from` up, releasing the holds they took, innermost first. */
  function discardFrom(id: string, h: Head, from: number, now: number): StoredHold[] {
    const released: StoredHold[] = [];
    for (const l of h.layers.slice(from - 1).reverse()) {
      for (const n of l.notes.values()) {
        const current = holds.ownHold(id, n.name);
        const plan = planHoldRollback(n, current, now);
        if (plan === 'drop') {
          released.push({ ...current! });
          holds.dropHold(id, n.name);
        } else if (typeof plan === 'number') {
          current!.quantity = plan;
        }
      }
    }
    h.layers.length = from - 1;
    return released;
  }

  /** The outermost layer into the records: drops first, then puts and entry deletes. */
  function apply(e: MemoryEntry, l: Layer): void {
    for (const row of [...l.rows.values()].sort(rowOrder)) {
      if (row.op === 'drop') e.records.delete(row.name);
      else if (row.op === 'del') e.records.get(row.name)?.delete(row.key);
      else {
        if (!e.records.has(row.name)) e.records.set(row.name, new Map());
        e.records.get(row.name)!.set(row.key, { ...row.record! });
      }
    }
  }

  return {
    put(e, w, now) {
      const h = heads.get(e.session.id);
      if (!h || h.layers.length === 0) return null;
      const { record, fresh } = planScopedWrite(w, view(e, h, w.name, now), () => view(e, h, null, now), now);
      const top = h.layers[h.layers.length - 1];
      if (fresh) {
        dropRowsOfName(top, w.name);
        put(top, w.name, NAME_MARK, 'drop', null);
      }
      put(top, w.name, w.key ?? '', 'put', record);
      return { ...record };
    },

    remove(e, name, key, ifVersion, now) {
      const h = heads.get(e.session.id);
      if (!h || h.layers.length === 0) return null;
      const op = planScopedDelete(key, ifVersion, view(e, h, name, now));
      if (op === null) return false;
      const top = h.layers[h.layers.length - 1];
      if (op === 'drop') dropRowsOfName(top, name);
      put(top, name, op === 'drop' ? NAME_MARK : key!, op, null);
      return true;
    },

    read(e, name, now) {
      const h = heads.get(e.session.id);
      if (!h || h.layers.length === 0) return null;
      return view(e, h, name, now).map((r) => ({ ...r }));
    },

    touch(id, now) {
      for (const l of heads.get(id)?.layers ?? []) {
        for (const r of l.rows.values()) {
          const rec = r.record;
          if (rec && rec.ttlMs !== null && isLive(rec.expiresAt, now)) rec.expiresAt = now + rec.ttlMs;
        }
      }
    },

    hasState: (id) => heads.has(id),

    dropSession(id) {
      heads.delete(id);
      wheel.delete(id);
    },

    steps: {
      async enterTransactions(id, timeoutMs) {
        const now = clock();
        const h = heads.get(id);
        if (!h) return { depth: 0, aborted: false, released: [] };
        if (h.layers.length > 0 && h.deadline <= now) {
          const released = discardFrom(id, h, 1, now);
          setDeadline(id, h, now);
          return { depth: 0, aborted: true, released };
        }
        const aborted = h.aborted;
        h.aborted = false;
        setDeadline(id, h, now + timeoutMs);
        return { depth: h.layers.length, aborted, released: [] };
      },

      async openTransaction(id, timeoutMs, maxDepth) {
        const now = clock();
        requireLive(id, now);
        let h = heads.get(id);
        if (!h) heads.set(id, (h = { layers: [], deadline: 0, aborted: false }));
        if (h.layers.length >= maxDepth) {
          throw new TesseraError('LIMIT_EXCEEDED', `At most ${maxDepth} transactions may be open at once.`, { limit: maxDepth });
        }
        h.layers.push({ rows: new Map(), notes: new Map() });
        h.aborted = false;
        setDeadline(id, h, now + timeoutMs);
        return h.layers.length;
      },

      async commitTransaction(id, timeoutMs) {
        const now = clock();
        const e = requireLive(id, now);
        const h = requireOpen(id);
        const child = h.layers.pop()!;
        const parent = h.layers[h.layers.length - 1];
        if (parent) {
          for (const r of child.rows.values()) if (r.op === 'drop') dropRowsOfName(parent, r.name);
          for (const [k, r] of child.rows) parent.rows.set(k, r);
          mergeNotes(parent.notes, child.notes.values());
        } else {
          apply(e, child);
        }
        setDeadline(id, h, now + timeoutMs);
        return h.layers.length;
      },

      async rollbackTransaction(id, all, timeoutMs) {
        const now = clock();
        requireLive(id, now);
        const h = requireOpen(id);
        const released = discardFrom(id, h, all ? 1 : h.layers.length, now);
        setDeadline(id, h, now + timeoutMs);
        return { sessionId: id, depth: h.layers.length, released };
      },

      async noteTransactionHolds(id, held, added) {
        const h = heads.get(id);
        if (!h || h.layers.length === 0) return;
        noteHeld(h.layers[h.layers.length - 1].notes, held, added);
      },

      async endTransactions(id) {
        const h = heads.get(id);
        const released = h ? discardFrom(id, h, 1, clock()) : [];
        heads.delete(id);
        wheel.delete(id);
        dropCursors(id);
        return released;
      },

      async sweepExpiredTransactions(limit) {
        const now = clock();
        const out: TransactionRollback[] = [];
        for (const id of wheel.takeDue(now, limit)) {
          const h = heads.get(id);
          if (!h || h.layers.length === 0) continue;
          if (h.deadline > now) {
            wheel.set(id, h.deadline);
            continue;
          }
          const released = discardFrom(id, h, 1, now);
          h.aborted = true;
          out.push({ sessionId: id, depth: 0, released });
        }
        return out;
      },
    },
  };
}
