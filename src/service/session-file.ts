import { TesseraError } from '../core/errors.js';
import type { SessionContext } from './context.js';
import type { Transactions } from './transactions.js';
import type { MultipleRecordView, RecordView } from './views.js';

/** What a session file asks of the service (Tessera provides it). */
export interface SessionFileHost {
  getRecord(ctx: SessionContext, name: unknown, key?: unknown): Promise<RecordView | MultipleRecordView>;
  putRecord(ctx: SessionContext, name: unknown, key: unknown, body: unknown): Promise<RecordView>;
  keepAlive(ctx: SessionContext, body?: unknown): Promise<unknown>;
  readonly transactions: Pick<Transactions, 'begin' | 'commit' | 'rollback'>;
}

/**
 * CITY Shop's SessionLib (`_read`, `_set`, `_write`, `_update`, `-CHANGED`)
 * over Tessera's scopes, for in-process use inside `tessera.withSession`:
 *
 * - `set` buffers: the first one opens a scope, and every write goes into it
 *   (this session reads it back at once; nobody else sees it);
 * - `write` persists: it commits that scope (with one more `set` first when
 *   given a name and value);
 * - `update` persists whatever is buffered and restarts every record's
 *   expiry clock (CITY Shop's refreshed time marks);
 * - `changed` is true while something is buffered; `discard` drops it.
 *
 * The scope lives in the store, so a file left unwritten at the end of one
 * request is found by the next: a SessionFile made while a transaction is
 * open adopts the innermost one (`changed` is then true), and an unwritten
 * buffer that nobody comes back for is rolled back at the transaction timeout.
 */
export class SessionFile {
  private open: boolean;

  constructor(private readonly tessera: SessionFileHost, private readonly ctx: SessionContext) {
    this.open = (ctx.transactionDepth ?? 0) > 0;
  }

  /** Something is buffered and not yet written. */
  get changed(): boolean {
    return this.open;
  }

  /** A record's value (or one entry's), buffered writes included; undefined when absent. */
  async read(name: string, key?: string): Promise<unknown> {
    try {
      const r = await this.tessera.getRecord(this.ctx, name, key);
      return 'entries' in r ? Object.fromEntries(r.entries.map((e) => [e.key, e.value])) : r.value;
    } catch (e) {
      if (e instanceof TesseraError && e.code === 'RECORD_NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** Buffers a value (for an entry of a multiple record, give its key). */
  async set(name: string, value: unknown, key?: string): Promise<void> {
    if (!this.open) {
      await this.tessera.transactions.begin(this.ctx);
      this.open = true;
    }
    await this.tessera.putRecord(this.ctx, name, key ?? null, { value });
  }

  /** Buffers `value` when given, then persists everything buffered. */
  async write(name?: string, value?: unknown, key?: string): Promise<void> {
    if (name !== undefined) await this.set(name, value, key);
    if (!this.open) return;
    await this.tessera.transactions.commit(this.ctx);
    this.open = false;
  }

  /** Persists what is buffered, changed or not, and restarts every record's expiry clock. */
  async update(): Promise<void> {
    await this.write();
    await this.tessera.keepAlive(this.ctx, { touchRecords: true });
  }

  /** Drops what is buffered. */
  async discard(): Promise<void> {
    if (!this.open) return;
    await this.tessera.transactions.rollback(this.ctx);
    this.open = false;
  }
}
