import { TesseraError } from '../../core/errors.js';
import { ExpiryWheel } from '../../core/expiry-wheel.js';
import type { MemoryState } from './state.js';
import type { CursorSteps, NewCursor, StoredRecord, UpkeepSteps } from '../contract.js';

export interface MemoryCursors {
  steps: CursorSteps & Pick<UpkeepSteps, 'sweepExpiredCursors'>;
  /** Removes every cursor of a session (inside the caller's step). */
  dropSession(id: string): void;
}

interface Cursor {
  sessionId: string;
  pageSize: number;
  items: StoredRecord[];
  position: number;
  timeoutMs: number;
  deadline: number;
}

/** Cursors of the memory engine: each method is one synchronous pass. */
export function memoryCursors(state: MemoryState): MemoryCursors {
  const { clock } = state;
  const isLive = (id: string, now: number) => state.live(id, now) !== null;
  const cursors = new Map<string, Cursor>();
  const bySession = new Map<string, Set<string>>();
  const wheel = new ExpiryWheel<string>(clock());

  function remove(id: string): void {
    const c = cursors.get(id);
    if (!c) return;
    cursors.delete(id);
    wheel.delete(id);
    const own = bySession.get(c.sessionId);
    own?.delete(id);
    if (own?.size === 0) bySession.delete(c.sessionId);
  }

  function live(sessionId: string, cursorId: string, now: number): Cursor | null {
    const c = cursors.get(cursorId);
    if (!c || c.sessionId !== sessionId) return null;
    if (c.deadline <= now) {
      remove(cursorId);
      return null;
    }
    return c;
  }

  return {
    dropSession(id) {
      for (const c of [...bySession.get(id) ?? []]) remove(c);
    },

    steps: {
      async openCursor(sessionId: string, c: NewCursor, maxCursors: number) {
        const now = clock();
        if (!isLive(sessionId, now)) throw new TesseraError('SESSION_INVALID');
        const own = [...bySession.get(sessionId) ?? []].filter((id) => live(sessionId, id, now));
        if (own.length >= maxCursors) {
          throw new TesseraError('LIMIT_EXCEEDED', `A session keeps at most ${maxCursors} open cursors.`, { limit: maxCursors });
        }
        const deadline = now + c.timeoutMs;
        cursors.set(c.id, { sessionId, pageSize: c.pageSize, items: c.items.map((r) => ({ ...r })), position: 0, timeoutMs: c.timeoutMs, deadline });
        if (!bySession.has(sessionId)) bySession.set(sessionId, new Set());
        bySession.get(sessionId)!.add(c.id);
        wheel.set(c.id, deadline);
      },

      async readCursor(sessionId, cursorId, count) {
        const now = clock();
        const c = live(sessionId, cursorId, now);
        if (!c) return null;
        const items = c.items.slice(c.position, c.position + (count ?? c.pageSize)).map((r) => ({ ...r }));
        c.position += items.length;
        c.deadline = now + c.timeoutMs;
        wheel.set(cursorId, c.deadline);
        return { items, position: c.position, total: c.items.length };
      },

      async closeCursor(sessionId, cursorId) {
        if (!live(sessionId, cursorId, clock())) return false;
        remove(cursorId);
        return true;
      },

      async sweepExpiredCursors(limit) {
        const now = clock();
        let n = 0;
        for (const id of wheel.takeDue(now, limit)) {
          const c = cursors.get(id);
          if (!c) continue;
          if (c.deadline > now) wheel.set(id, c.deadline);
          else {
            remove(id);
            n++;
          }
        }
        return n;
      },
    },
  };
}
