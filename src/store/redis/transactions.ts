import { TesseraError } from '../../core/errors.js';
import type { CursorSteps, TransactionSteps, TransactionRollback, StoredHold, StoredRecord } from '../contract.js';
import { BUCKETS, bucketOf, script, type Arg, type RedisConnection, type Reply } from './client.js';
import * as S from './lua/transactions.js';

export interface RedisTransactionsDeps {
  /** Runs a session script (with the helpers it uses: sessionScript) on the session's keys. */
  session(lua: string, id: string, args: Arg[]): Promise<Reply>;
  /** Releases the holds rolled-back scopes took, group by group (redis-holds.ts). */
  releaseNoted(id: string, notes: { name: string; token: number; quantity: number | null }[]): Promise<StoredHold[]>;
  toRecord(name: string, key: string, encoded: string): StoredRecord;
}

/** A record as the session scripts encode it: kind|version|updatedAt|ttl|expiresAt|value. */
function encode(r: StoredRecord): string {
  return `${r.kind === 'single' ? 's' : 'm'}|${r.version}|${r.updatedAt}|${r.ttlMs ?? ''}|${r.expiresAt ?? ''}|${r.value}`;
}

/**
 * Scopes and cursors of the Redis engine (redis-scopes-lua.ts has the keys).
 * Each step is one script on the session's keys; what it discards answers
 * the holds its scopes took, released after by one script per resource group
 * (as ending a session does). Two deadline indexes in the sixteen buckets,
 * `sx` (session id by scope deadline) and `cx` (`id\ncursor` by cursor
 * deadline), are written after an open, and the sweeps reschedule what a
 * later request moved, so a request never writes them.
 */
export function redisTransactions(r: RedisConnection, deps: RedisTransactionsDeps): TransactionSteps & CursorSteps {
  const scope = (lua: string, id: string, args: Arg[]) => deps.session(script(S.SCOPES_COMMON, lua), id, [r.now(), ...args]);
  const cursor = (lua: string, id: string, args: Arg[]) => deps.session(script(S.CURSORS_COMMON, lua), id, [r.now(), ...args]);
  const indexKey = (id: string, suffix: 'sx' | 'cx') => r.key(`x${bucketOf(id)}`, suffix);

  /** Releases the holds of discarded scopes: a script's notes, flat (name, token|quantity, ...), innermost scope first. */
  function release(id: string, flat: string[]): Promise<StoredHold[]> {
    const notes = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [token, qty] = flat[i + 1].split('|');
      notes.push({ name: flat[i], token: Number(token), quantity: qty === '' ? null : Number(qty) });
    }
    return deps.releaseNoted(id, notes);
  }

  /** A script's refusal as the other engines throw it; `limit`: the message and the limit of a LIMIT_EXCEEDED. */
  function refuse(res: Reply, limit?: [string, number]): void {
    if (res[0] === 'invalid') throw new TesseraError('SESSION_INVALID');
    if (res[0] === 'none') throw new TesseraError('TRANSACTION_NOT_OPEN');
    if (res[0] === 'limit' && limit) throw new TesseraError('LIMIT_EXCEEDED', limit[0], { limit: limit[1] });
  }

  /**
   * Walks a deadline index, bucket by bucket: each due member's own script
   * decides. A member still live is rescheduled at its deadline; any other is
   * dropped from the index (if not written again meanwhile).
   */
  async function sweepIndex<T>(suffix: 'sx' | 'cx', limit: number, visit: (member: string) => Promise<{ live: number } | { done: T | null }>): Promise<T[]> {
    const now = await r.time();
    const out: T[] = [];
    for (let b = 0; b < BUCKETS && out.length < limit; b++) {
      const key = r.key(`x${b}`, suffix);
      const due: string[] = await r.call(() => r.client.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit - out.length));
      await Promise.all(Array.from({ length: due.length / 2 }, async (_, i) => {
        const [member, score] = [due[2 * i], due[2 * i + 1]];
        const v = await visit(member);
        if ('live' in v) await r.call(() => r.client.zadd(key, 'XX', v.live, member));
        else {
          await r.run(S.UNINDEX, [key], [member, score]);
          if (v.done !== null) out.push(v.done);
        }
      }));
    }
    return out;
  }

  return {
    async enterTransactions(id, timeoutMs) {
      const res = await scope(S.ENTER, id, [timeoutMs]);
      return { depth: Number(res[1]), aborted: res[0] === 'aborted', released: await release(id, res.slice(2)) };
    },

    async openTransaction(id, timeoutMs, maxDepth) {
      const res = await scope(S.OPEN, id, [timeoutMs, maxDepth]);
      refuse(res, [`At most ${maxDepth} transactions may be open at once.`, maxDepth]);
      // After the script: should this node die in between, the next request still rolls an idle scope back.
      await r.call(() => r.client.zadd(indexKey(id, 'sx'), Number(res[2]), id));
      return Number(res[1]);
    },

    async commitTransaction(id, timeoutMs) {
      const res = await scope(S.COMMIT, id, [timeoutMs]);
      refuse(res);
      return Number(res[1]);
    },

    async rollbackTransaction(id, all, timeoutMs) {
      const res = await scope(S.ROLLBACK, id, [all ? '1' : '0', timeoutMs]);
      refuse(res);
      return { sessionId: id, depth: Number(res[1]), released: await release(id, res.slice(2)) };
    },

    async noteTransactionHolds(id, held, added) {
      if (held.length === 0) return;
      await scope(S.NOTE_HOLDS, id, [added ?? '', ...held.flatMap((h) => [h.name, h.token, h.quantity ?? '', h.fresh ? '1' : '0'])]);
    },

    async endTransactions(id) {
      return release(id, await scope(S.END_SCOPES, id, []));
    },

    async sweepExpiredTransactions(limit) {
      return sweepIndex<TransactionRollback>('sx', limit, async (id) => {
        const res = await scope(S.SWEEP_SCOPES, id, []);
        if (res[0] === 'live') return { live: Number(res[1]) };
        if (res[0] !== 'aborted') return { done: null };
        return { done: { sessionId: id, depth: 0, released: await release(id, res.slice(1)) } };
      });
    },

    async openCursor(id, c, maxCursors) {
      const items = c.items.map((it) => `${it.key ?? ''}\0${encode(it)}`);
      const res = await cursor(S.OPEN_CURSOR, id, [c.id, c.name, c.pageSize, c.timeoutMs, maxCursors, ...items]);
      refuse(res, [`A session keeps at most ${maxCursors} open cursors.`, maxCursors]);
      await r.call(() => r.client.zadd(indexKey(id, 'cx'), Number(res[1]), `${id}\n${c.id}`));
    },

    async readCursor(id, cursorId, count) {
      const res = await cursor(S.READ_CURSOR, id, [cursorId, count ?? '']);
      if (!res) return null;
      const items = (res.slice(3) as string[]).map((item) => {
        const cut = item.indexOf('\0');
        return deps.toRecord(res[0], item.slice(0, cut), item.slice(cut + 1));
      });
      return { items, position: Number(res[1]), total: Number(res[2]) };
    },

    async closeCursor(id, cursorId) {
      return Number(await cursor(S.CLOSE_CURSOR, id, [cursorId])) === 1;
    },

    async sweepExpiredCursors(limit) {
      const removed = await sweepIndex<true>('cx', limit, async (member) => {
        const [id, cursorId] = member.split('\n');
        const res = await cursor(S.SWEEP_CURSOR, id, [cursorId]);
        if (res[0] === 'live') return { live: Number(res[1]) };
        return { done: res[0] === 'expired' ? true : null };
      });
      return removed.length;
    },
  };
}
