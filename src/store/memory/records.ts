import { TesseraError } from '../../core/errors.js';
import { checkDelete, isLive, planWrite, valueBytes } from '../../core/records.js';
import type { RecordSteps, RecordWrite, StoredRecord } from '../contract.js';
import type { MemoryEntry, MemoryState } from './state.js';
import type { MemoryTransactions } from './transactions.js';

export interface MemoryRecords {
  steps: RecordSteps;
  /** A record write outside any transaction (putRecord's rules), inside the caller's step; throws its refusal. */
  write(e: MemoryEntry, w: RecordWrite, now: number): StoredRecord;
}

/** Records of the memory engine: each step is one synchronous pass; with a transaction open they go through its scopes. */
export function memoryRecords(state: MemoryState, deps: { transactions: MemoryTransactions }): MemoryRecords {
  const { clock } = state;
  const { transactions } = deps;

  function liveOrInvalid(id: string): MemoryEntry {
    const e = state.live(id);
    if (!e) throw new TesseraError('SESSION_INVALID');
    return e;
  }

  function liveEntries(map: Map<string, StoredRecord> | undefined, now: number): StoredRecord[] {
    if (!map) return [];
    const out: StoredRecord[] = [];
    for (const [k, r] of map) {
      if (isLive(r.expiresAt, now)) out.push(r);
      else map.delete(k);
    }
    return out;
  }

  /** Bytes of every live record value of the session (the sum maxRecordBytes bounds); drops the expired on the way. */
  function liveBytes(e: MemoryEntry, now: number): number {
    let sum = 0;
    for (const map of e.records.values()) for (const r of liveEntries(map, now)) sum += valueBytes(r.value);
    return sum;
  }

  function write(e: MemoryEntry, w: RecordWrite, now: number): StoredRecord {
    const map = e.records.get(w.name);
    const entries = liveEntries(map, now);
    const current = map?.get(w.key ?? '');
    const liveRecords = [...e.records.keys()].filter((n) => n === w.name ? entries.length > 0 : liveEntries(e.records.get(n), now).length > 0).length;
    const version = planWrite(w, {
      liveKind: entries[0]?.kind ?? null,
      currentVersion: current ? current.version : 0,
      liveEntries: entries.length,
      liveRecords,
      currentBytes: current ? valueBytes(current.value) : 0, // live: liveEntries dropped the expired
      liveBytes: () => liveBytes(e, now),
    });
    const record: StoredRecord = {
      name: w.name, key: w.key, kind: w.kind, value: w.value, version,
      updatedAt: now, ttlMs: w.ttlMs, expiresAt: w.ttlMs === null ? null : now + w.ttlMs,
    };
    if (map && entries.length > 0) map.set(w.key ?? '', record);
    else e.records.set(w.name, new Map([[w.key ?? '', record]]));
    return { ...record };
  }

  const steps: RecordSteps = {
    async putRecord(sessionId, w) {
      const now = clock();
      const e = liveOrInvalid(sessionId);
      return transactions.put(e, w, now) ?? write(e, w, now);
    },

    async getRecord(sessionId, name) {
      const e = liveOrInvalid(sessionId);
      return transactions.read(e, name, clock()) ?? liveEntries(e.records.get(name), clock()).sort(byKey).map((r) => ({ ...r }));
    },

    async listRecords(sessionId) {
      const e = liveOrInvalid(sessionId);
      const now = clock();
      const scoped = transactions.read(e, null, now);
      if (scoped) return scoped;
      const out: StoredRecord[] = [];
      for (const name of [...e.records.keys()].sort()) out.push(...liveEntries(e.records.get(name), now).sort(byKey));
      return out.map((r) => ({ ...r }));
    },

    async deleteRecord(sessionId, name, key, ifVersion) {
      const e = liveOrInvalid(sessionId);
      const scoped = transactions.remove(e, name, key, ifVersion, clock());
      if (scoped !== null) return scoped;
      const map = e.records.get(name);
      const entries = liveEntries(map, clock());
      if (key === null) {
        if (entries.length === 0) return false;
        checkDelete(ifVersion, entries[0], true);
        e.records.delete(name);
        return true;
      }
      const current = map?.get(key);
      if (!current || !entries.includes(current)) return false;
      checkDelete(ifVersion, current, false);
      map!.delete(key);
      return true;
    },

    async touchRecords(sessionId) {
      const e = liveOrInvalid(sessionId);
      const now = clock();
      transactions.touch(sessionId, now);
      for (const map of e.records.values()) {
        for (const r of liveEntries(map, now)) if (r.ttlMs !== null) r.expiresAt = now + r.ttlMs;
      }
    },
  };

  return { steps, write };
}

function byKey(a: StoredRecord, b: StoredRecord): number {
  return (a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0;
}
