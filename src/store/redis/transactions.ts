import { TesseraError } from '../../core/errors.js';
import type { SessionStore, StoredHold, TransactionRollback } from '../contract.js';
import { bucketOf, sweepDeadlines, type Arg, type RedisConnection, type Reply } from './client.js';

export type RedisTransactionSteps = Pick<SessionStore, 'enterTransactions' | 'openTransaction' | 'commitTransaction' | 'rollbackTransaction'
  | 'noteTransactionHolds' | 'endTransactions' | 'sweepExpiredTransactions'>;

export interface RedisTransactionsDeps {
  /** Releases the holds rolled-back transactions took, group by group (holds.ts). */
  releaseNoted(id: string, notes: { name: string; token: number; quantity: number | null }[]): Promise<StoredHold[]>;
}

/** A script's refusal as the other engines throw it; `limit`: the message and the limit of a LIMIT_EXCEEDED. */
export function refuse(res: Reply, limit?: [string, number]): void {
  if (res[0] === 'invalid') throw new TesseraError('SESSION_INVALID');
  if (res[0] === 'none') throw new TesseraError('TRANSACTION_NOT_OPEN');
  if (res[0] === 'limit' && limit) throw new TesseraError('LIMIT_EXCEEDED', limit[0], { limit: limit[1] });
}

/**
 * Transactions of the Redis engine (lua/lib/transaction.lua has the keys).
 * Each step is one script on the session's keys (lua/transactions/); what it
 * discards answers the holds its transactions took, released after by one
 * script per resource group (as ending a session does). A deadline index in
 * the sixteen buckets, `sx` (session id by deadline), is written after an
 * open, and the sweep reschedules what a later request moved, so a request
 * never writes it.
 */
export function redisTransactions(r: RedisConnection, deps: RedisTransactionsDeps): RedisTransactionSteps {
  const run = (script: string, id: string, args: Arg[]) => r.run(script, [r.sessionKey(id)], [r.now(), ...args]);

  /** Releases the holds of discarded transactions: a script's notes, flat (name, token|quantity, ...), innermost first. */
  function release(id: string, flat: string[]): Promise<StoredHold[]> {
    const notes = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [token, qty] = flat[i + 1].split('|');
      notes.push({ name: flat[i], token: Number(token), quantity: qty === '' ? null : Number(qty) });
    }
    return deps.releaseNoted(id, notes);
  }

  return {
    async enterTransactions(id, timeoutMs) {
      const res = await run('transactions/enter', id, [timeoutMs]);
      return { depth: Number(res[1]), aborted: res[0] === 'aborted', released: await release(id, res.slice(2)) };
    },

    async openTransaction(id, timeoutMs, maxDepth) {
      const res = await run('transactions/open', id, [timeoutMs, maxDepth]);
      refuse(res, [`At most ${maxDepth} transactions may be open at once.`, maxDepth]);
      // After the script: should this node die in between, the next request still rolls an idle transaction back.
      await r.call(() => r.client.zadd(r.key(`x${bucketOf(id)}`, 'sx'), Number(res[2]), id));
      return Number(res[1]);
    },

    async commitTransaction(id, timeoutMs) {
      const res = await run('transactions/commit', id, [timeoutMs]);
      refuse(res);
      return Number(res[1]);
    },

    async rollbackTransaction(id, all, timeoutMs) {
      const res = await run('transactions/rollback', id, [all ? '1' : '0', timeoutMs]);
      refuse(res);
      return { sessionId: id, depth: Number(res[1]), released: await release(id, res.slice(2)) };
    },

    async noteTransactionHolds(id, held, added) {
      if (held.length === 0) return;
      await run('transactions/note_holds', id, [added ?? '', ...held.flatMap((h) => [h.name, h.token, h.quantity ?? '', h.fresh ? '1' : '0'])]);
    },

    async endTransactions(id) {
      return release(id, await run('transactions/end', id, []));
    },

    async sweepExpiredTransactions(limit) {
      return sweepDeadlines<TransactionRollback>(r, 'sx', limit, async (id) => {
        const res = await run('transactions/sweep', id, []);
        if (res[0] === 'live') return { live: Number(res[1]) };
        if (res[0] !== 'aborted') return { done: null };
        return { done: { sessionId: id, depth: 0, released: await release(id, res.slice(1)) } };
      });
    },
  };
}
