import { TesseraError } from '../core/errors.js';
import { bodyObject, recordName } from '../core/input.js';
import { newSessionId } from '../core/keys.js';
import { DEFAULT_PAGE, MAX_CURSORS, pageCount } from '../core/transactions.js';
import type { TesseraConfig } from '../core/config.js';
import type { SessionContext } from './context.js';
import type { SessionStore, StoredRecord } from '../store/contract.js';
import { entryView, type EntryView } from './views.js';
import { sweepInBatches } from '../store/sweep.js';

/** Reads a record as the session sees it, with the service's read checks (declared name, read roles). */
export type RecordReader = (ctx: SessionContext, name: string) => Promise<StoredRecord[]>;

const CURSOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * docs/protocol.md#cursors: cursors over a multiple record. Opening one stores a snapshot of
 * the entries in the store (so a restart or another node can page it); each
 * page is one store step that moves its position and its deadline.
 */
export class Cursors {
  constructor(
    private readonly store: SessionStore,
    private readonly config: Readonly<TesseraConfig>,
    private readonly read: RecordReader,
  ) {}

  /** POST /v1/session/cursors `{ record, pageSize? }` → `{ cursor, total }`. */
  async open(ctx: SessionContext, body: unknown): Promise<{ cursor: string; total: number }> {
    const b = bodyObject(body, ['record', 'pageSize']);
    if (b.record === undefined) throw new TesseraError('INVALID_REQUEST', "The body needs a 'record'.", { field: 'record' });
    const name = recordName(b.record);
    const pageSize = b.pageSize === undefined ? DEFAULT_PAGE : pageCount(b.pageSize, 'pageSize');
    const items = await this.read(ctx, name);
    if (items.length === 0) throw new TesseraError('RECORD_NOT_FOUND');
    if (items[0].kind !== 'multiple') {
      throw new TesseraError('INVALID_REQUEST', `Record '${name}' is a single record: a cursor pages the entries of a multiple record.`, { field: 'record' });
    }
    const id = newSessionId();
    await this.store.openCursor(ctx.session.id, { id, name, pageSize, items, timeoutMs: this.config.session.cursorTimeout * 1000 }, MAX_CURSORS);
    return { cursor: id, total: items.length };
  }

  /** GET /v1/session/cursors/{cursor}?count=n → `{ items, position, done }`. */
  async page(ctx: SessionContext, cursor: unknown, query: { count?: unknown } = {}): Promise<{ items: EntryView[]; position: number; done: boolean }> {
    const count = query.count === undefined ? null : pageCount(query.count, 'count', true);
    const page = await this.store.readCursor(ctx.session.id, cursorId(cursor), count);
    if (!page) throw new TesseraError('CURSOR_NOT_FOUND');
    return { items: page.items.map(entryView), position: page.position, done: page.position >= page.total };
  }

  /** DELETE /v1/session/cursors/{cursor}. */
  async close(ctx: SessionContext, cursor: unknown): Promise<{ deleted: true }> {
    if (!(await this.store.closeCursor(ctx.session.id, cursorId(cursor)))) throw new TesseraError('CURSOR_NOT_FOUND');
    return { deleted: true };
  }

  /** Removes cursors unused past the cursor timeout. How many. */
  async sweep(): Promise<number> {
    return sweepInBatches((limit) => this.store.sweepExpiredCursors(limit));
  }
}

/** Any text that cannot be a cursor id is simply an unknown cursor. */
function cursorId(v: unknown): string {
  if (typeof v !== 'string' || !CURSOR_ID.test(v)) throw new TesseraError('CURSOR_NOT_FOUND');
  return v;
}
