import { iso } from '../core/clock.js';
import type { StoredRecord } from '../store/contract.js';

/** Records as the wire shows them (docs/protocol.md#records): times as RFC 3339, values parsed. */

export interface RecordView {
  name: string;
  key?: string;
  value: unknown;
  version: number;
  updatedAt: string;
  expiresAt: string | null;
}

export type EntryView = Omit<RecordView, 'name'> & { key: string };

export interface MultipleRecordView {
  name: string;
  entries: EntryView[];
}

export function view(r: StoredRecord, value?: unknown): RecordView {
  const v: RecordView = {
    name: r.name, value: value !== undefined ? value : JSON.parse(r.value), version: r.version,
    updatedAt: iso(r.updatedAt), expiresAt: r.expiresAt === null ? null : iso(r.expiresAt),
  };
  if (r.key !== null) v.key = r.key;
  return v;
}

/** Groups entries (sorted by name, then key) into record views. */
export function group(rows: StoredRecord[]): (RecordView | MultipleRecordView)[] {
  const out: (RecordView | MultipleRecordView)[] = [];
  let current: MultipleRecordView | null = null;
  for (const r of rows) {
    if (r.kind === 'single') {
      out.push(view(r));
      current = null;
    } else {
      if (!current || current.name !== r.name) out.push((current = { name: r.name, entries: [] }));
      const { name: _name, ...entry } = view(r);
      current.entries.push(entry as EntryView);
    }
  }
  return out;
}

/** One entry of a multiple record, as GET of the record lists it. */
export function entryView(r: StoredRecord): EntryView {
  const { name: _name, ...entry } = view(r);
  return entry as EntryView;
}
