import type { Clock } from '../../core/clock.js';
import { ExpiryWheel } from '../../core/expiry-wheel.js';
import type { KeyState, SessionInfo } from '../../core/session.js';
import type { StoredRecord } from '../../core/records.js';

/** One session as the memory engine keeps it; shared by the engine's slices. */
export interface MemoryEntry {
  session: SessionInfo;
  keys: KeyState;
  /** name -> entry key ('' for a single record) -> record */
  records: Map<string, Map<string, StoredRecord>>;
}

/** The sessions map every slice of the memory engine reads, and the wheel that schedules their expiry. */
export interface MemoryState {
  clock: Clock;
  sessions: Map<string, MemoryEntry>;
  /** Session ids by next timeout (the sweep's schedule). */
  wheel: ExpiryWheel<string>;
  /** The entry of a live session (by the store's clock), or null. */
  live(id: string, now?: number): MemoryEntry | null;
}

export function memoryState(clock: Clock): MemoryState {
  const sessions = new Map<string, MemoryEntry>();
  return {
    clock,
    sessions,
    wheel: new ExpiryWheel<string>(clock()),
    live(id, now = clock()) {
      const e = sessions.get(id);
      return e && e.session.nextTimeout > now ? e : null;
    },
  };
}
