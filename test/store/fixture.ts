/** What every store-level test gets: one engine's store on a manual clock, and small builders. */
import { manualClock } from '../../src/core/clock.js';
import { hashKey, newSessionId } from '../../src/core/keys.js';
import type { SessionInfo } from '../../src/core/session.js';
import type { RecordWrite, SessionStore } from '../../src/store/contract.js';
import { ENGINES, type ManualClock } from '../helpers/harness.js';

export interface StoreFixture {
  store: SessionStore;
  clock: ManualClock;
  /** A new live session (client 'web', idle timeout 60 s, rotation per request) with key `key`. Its id. */
  session(key?: string, idleTimeout?: number): Promise<string>;
}

/** Runs `fn` on a fresh store of the engine; closes it after. */
export async function withStore(engine: string, fn: (f: StoreFixture) => Promise<void>): Promise<void> {
  const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
  const { store, cleanup } = await ENGINES[engine](clock);
  try {
    await fn({
      store,
      clock,
      async session(key = 'k0', idleTimeout = 60) {
        const now = clock();
        const s: SessionInfo = {
          id: newSessionId(), client: 'web', rotation: 'per-request', queue: false, idleTimeout, lifespan: 3600,
          createdAt: now, lastAccessAt: now, nextTimeout: now + idleTimeout * 1000, expiresAt: now + 3600_000, user: null,
        };
        await store.createSession(s, hashKey(key));
        return s.id;
      },
    });
  } finally {
    await store.close();
    cleanup();
  }
}

/** A record write: single when `key` is null. */
export function write(name: string, key: string | null, value: unknown, more: Partial<RecordWrite> = {}): RecordWrite {
  return {
    name, key, kind: key === null ? 'single' : 'multiple', value: JSON.stringify(value), ttlMs: null, ifVersion: null,
    maxEntries: 10, maxRecords: 10, maxRecordBytes: 1048576, ...more,
  };
}

/** Names of what a step answered, in order. */
export const names = (xs: { name: string }[]) => xs.map((x) => x.name);
