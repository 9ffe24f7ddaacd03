import { TesseraError, invalid } from '../core/errors.js';
import { bodyObject } from '../core/input.js';
import { MAX_DEPTH } from '../core/transactions.js';
import type { SessionInfo } from '../core/session.js';
import type { TesseraConfig } from '../core/config.js';
import type { SessionContext } from './context.js';
import type { AcquiredHold, SessionStore, StoredHold } from '../store/contract.js';
import { sweepInBatches } from '../store/sweep.js';

/** Publishes `hold.released` for a hold a rollback gave back. */
export type ReleaseEmitter = (session: { id: string; user?: SessionInfo['user'] }, resource: string) => void;

/**
 * docs/protocol.md#transactions-and-nested-scopes: transactions as a stack of scopes per session, kept in the store
 * (core/transactions.ts has the rules). Each use case is one store step; the record
 * use cases of the service need nothing of this: the store writes into the
 * innermost scope and reads through all of them.
 */
export class Transactions {
  constructor(
    private readonly store: SessionStore,
    private readonly config: Readonly<TesseraConfig>,
    private readonly released: ReleaseEmitter,
  ) {}

  private get timeoutMs(): number {
    return this.config.session.transactionTimeout * 1000;
  }

  /**
   * Every request of a session calls this once its credentials are accepted
   * (and its session headers set): it learns the depth, moves the scopes'
   * deadline, and meets TRANSACTION_ABORTED once after an idle rollback.
   * Answers the context with the depth it learnt.
   */
  async enter(ctx: SessionContext): Promise<SessionContext> {
    if (ctx.transactionDepth === 0) return ctx; // authenticate saw no scope state
    const state = await this.store.enterTransactions(ctx.session.id, this.timeoutMs);
    this.emitReleased(ctx.session, state.released);
    if (state.aborted) throw new TesseraError('TRANSACTION_ABORTED');
    return { ...ctx, transactionDepth: state.depth };
  }

  /** POST /v1/session/transactions: opens a scope, nested in the open ones. */
  async begin(ctx: SessionContext, body?: unknown): Promise<{ depth: number }> {
    bodyObject(body, []);
    const depth = await this.store.openTransaction(ctx.session.id, this.timeoutMs, MAX_DEPTH);
    ctx.transactionDepth = depth;
    return { depth };
  }

  /** POST /v1/session/transactions/commit: the innermost scope into its parent, or (depth 1) into the records, atomically. */
  async commit(ctx: SessionContext, body?: unknown): Promise<{ depth: number }> {
    bodyObject(body, []);
    const depth = await this.store.commitTransaction(ctx.session.id, this.timeoutMs);
    ctx.transactionDepth = depth;
    return { depth };
  }

  /** POST /v1/session/transactions/rollback[?all=true]: discards the innermost scope (or all), releasing the holds taken in it. */
  async rollback(ctx: SessionContext, query: { all?: unknown } = {}, body?: unknown): Promise<{ depth: number }> {
    bodyObject(body, []);
    const all = flag(query.all, 'all');
    const result = await this.store.rollbackTransaction(ctx.session.id, all, this.timeoutMs);
    this.emitReleased(ctx.session, result.released);
    ctx.transactionDepth = result.depth;
    return { depth: result.depth };
  }

  /** After a hold step: the innermost open scope remembers what it took (`added`: units asked of a pool). */
  async noteHolds(ctx: SessionContext, held: AcquiredHold[], added: number | null): Promise<void> {
    if ((ctx.transactionDepth ?? 0) > 0) await this.store.noteTransactionHolds(ctx.session.id, held, added);
  }

  /** Before a transfer: every scope rolls back and every cursor closes (the old id is about to go). */
  async endAll(ctx: SessionContext): Promise<void> {
    this.emitReleased(ctx.session, await this.store.endTransactions(ctx.session.id));
    ctx.transactionDepth = 0;
  }

  /** Rolls back the scopes idle past the transaction timeout. How many sessions. */
  async sweep(): Promise<number> {
    return sweepInBatches((limit) => this.store.sweepExpiredTransactions(limit), (aborted) => {
      for (const a of aborted) this.emitReleased({ id: a.sessionId }, a.released);
    });
  }

  private emitReleased(session: { id: string; user?: SessionInfo['user'] }, holds: StoredHold[]): void {
    for (const h of holds) this.released(session, h.name);
  }
}

/** A query flag: absent is false; 'true' or 'false' (also from JSON). */
function flag(v: unknown, field: string): boolean {
  if (v === undefined) return false;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalid(`'${field}' must be true or false.`, field);
}
