import type { SessionStore } from '../contract.js';
import { bucketOf, sweepDeadlines, type Arg, type RedisConnection } from './client.js';
import { decodeItem, encodeItem } from './codec.js';
import { refuse } from './transactions.js';

export type RedisCursorSteps = Pick<SessionStore, 'openCursor' | 'readCursor' | 'closeCursor' | 'sweepExpiredCursors'>;

/**
 * Cursors of the Redis engine (lua/lib/cursor.lua has the keys): each step is
 * one script on the session's keys (lua/cursors/), the items stored as
 * `key\0encoded record` (codec.ts). A deadline index in the sixteen buckets,
 * `cx` (`id\ncursor` by deadline), is written after an open; the sweep
 * reschedules what a later read moved.
 */
export function redisCursors(r: RedisConnection): RedisCursorSteps {
  const run = (script: string, id: string, args: Arg[]) => r.run(script, [r.sessionKey(id)], [r.now(), ...args]);

  return {
    async openCursor(id, c, maxCursors) {
      const res = await run('cursors/open', id, [c.id, c.name, c.pageSize, c.timeoutMs, maxCursors, ...c.items.map(encodeItem)]);
      refuse(res, [`A session keeps at most ${maxCursors} open cursors.`, maxCursors]);
      await r.call(() => r.client.zadd(r.key(`x${bucketOf(id)}`, 'cx'), Number(res[1]), `${id}\n${c.id}`));
    },

    async readCursor(id, cursorId, count) {
      const res = await run('cursors/read', id, [cursorId, count ?? '']);
      if (!res) return null;
      const items = (res.slice(3) as string[]).map((item) => decodeItem(res[0], item));
      return { items, position: Number(res[1]), total: Number(res[2]) };
    },

    async closeCursor(id, cursorId) {
      return Number(await run('cursors/close', id, [cursorId])) === 1;
    },

    async sweepExpiredCursors(limit) {
      const removed = await sweepDeadlines<true>(r, 'cx', limit, async (member) => {
        const [id, cursorId] = member.split('\n');
        const res = await run('cursors/sweep', id, [cursorId]);
        if (res[0] === 'live') return { live: Number(res[1]) };
        return { done: res[0] === 'expired' ? true : null };
      });
      return removed.length;
    },
  };
}
