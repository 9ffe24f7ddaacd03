import { TesseraError } from './errors.js';

/** The rules every engine applies, inside its atomic step, to a record write. */

export function isLive(expiresAt: number | null, now: number): boolean {
  return expiresAt === null || expiresAt > now;
}

export interface WriteContext {
  /** The live kind of the record name, or null when no entry of it is live. */
  liveKind: RecordKind | null;
  /** The live version of the entry written, or 0 when absent. */
  currentVersion: number;
  /** Live entries of this record name. */
  liveEntries: number;
  /** Live record names in the session. */
  liveRecords: number;
  /** Bytes (valueBytes) of the live entry written, or 0 when absent. */
  currentBytes: number;
  /**
   * Bytes (valueBytes) of every live record value the session holds: single
   * records and entries. Asked only by a write that grows its entry, so an
   * engine sums them only then.
   */
  liveBytes: () => number;
}

/** The measure of a record value for session.maxRecordSize and maxRecordBytes: its JSON text's length in UTF-8 bytes. */
export function valueBytes(json: string): number {
  return Buffer.byteLength(json);
}

/**
 * The write that rides on an authentication (AuthRequest.write): its result,
 * or undefined when the rules refuse it, for putRecord to throw that refusal.
 */
export function unlessRefused<T>(write: () => T): T | undefined {
  try {
    return write();
  } catch (err) {
    if (err instanceof TesseraError) return undefined;
    throw err;
  }
}

/** Checks a write against the live state; returns the version it will have. */
export function planWrite(write: RecordWrite, ctx: WriteContext): number {
  if (ctx.liveKind !== null && ctx.liveKind !== write.kind) {
    throw new TesseraError('INVALID_REQUEST',
      ctx.liveKind === 'multiple'
        ? `Record '${write.name}' is a multiple record: write one entry with PUT /records/${write.name}/{key}.`
        : `Record '${write.name}' is a single record: write it without an entry key.`,
      { field: 'key' });
  }
  if (write.ifVersion !== null && write.ifVersion !== ctx.currentVersion) {
    throw new TesseraError('VERSION_MISMATCH', undefined, { version: ctx.currentVersion });
  }
  if (ctx.liveKind === null && ctx.liveRecords >= write.maxRecords) {
    throw new TesseraError('LIMIT_EXCEEDED', `A session holds at most ${write.maxRecords} records.`, { limit: write.maxRecords });
  }
  if (write.kind === 'multiple' && ctx.currentVersion === 0 && ctx.liveEntries >= write.maxEntries) {
    throw new TesseraError('LIMIT_EXCEEDED', `Record '${write.name}' holds at most ${write.maxEntries} entries.`, { limit: write.maxEntries });
  }
  // a write that does not grow its entry always passes (even over a lowered quota)
  const bytes = valueBytes(write.value);
  if (bytes > ctx.currentBytes && ctx.liveBytes() - ctx.currentBytes + bytes > write.maxRecordBytes) {
    throw new TesseraError('LIMIT_EXCEEDED', `A session holds at most ${write.maxRecordBytes} bytes of records.`, { limit: write.maxRecordBytes });
  }
  return ctx.currentVersion + 1;
}

/** Checks If-Match on a delete of a single record, an entry, or (wholeRecord) a multiple record. */
export function checkDelete(ifVersion: number | null, current: { kind: RecordKind; version: number }, wholeRecord: boolean): void {
  if (ifVersion === null) return;
  if (wholeRecord && current.kind === 'multiple') {
    throw new TesseraError('INVALID_REQUEST', 'If-Match applies to a single record or to one entry, not to a whole multiple record.', { field: 'If-Match' });
  }
  if (ifVersion !== current.version) throw new TesseraError('VERSION_MISMATCH', undefined, { version: current.version });
}

export type RecordKind = 'single' | 'multiple';

export interface RecordWrite {
  name: string;
  /** The entry key of a multiple record; null for a single record. */
  key: string | null;
  kind: RecordKind;
  /** The value as JSON text. */
  value: string;
  /** Lifetime after each write or touch (ms); null: as long as the session. */
  ttlMs: number | null;
  /** Write only if the live version is this (0: only if absent). */
  ifVersion: number | null;
  /** Most live entries a multiple record may hold. */
  maxEntries: number;
  /** Most live records (names) a session may hold. */
  maxRecords: number;
  /** Most bytes (valueBytes) of live record values a session may hold, summed over its single records and entries. */
  maxRecordBytes: number;
}

export interface StoredRecord {
  name: string;
  key: string | null;
  kind: RecordKind;
  /** JSON text. */
  value: string;
  version: number;
  updatedAt: number;
  ttlMs: number | null;
  expiresAt: number | null;
}
