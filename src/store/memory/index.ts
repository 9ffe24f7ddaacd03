import { systemClock, type Clock } from '../../core/clock.js';
import type { SessionStore } from '../contract.js';
import { memoryCursors } from './cursors.js';
import { memoryHolds } from './holds.js';
import { memoryRecords } from './records.js';
import { memorySessions } from './sessions.js';
import { memoryState } from './state.js';
import { memoryTransactions } from './transactions.js';
import { memoryUsers } from './users.js';

export interface MemoryStoreOptions {
  /** The store's clock. @default Date.now */
  clock?: Clock;
}

/**
 * Everything in this process's memory: for tests, development and one-node
 * use. One file per slice of the contract; this one only assembles them. Each
 * step is one synchronous pass (no await inside), so it is atomic here.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const state = memoryState(options.clock ?? systemClock);
  const holds = memoryHolds(state);
  const cursors = memoryCursors(state);
  const transactions = memoryTransactions(state, { holds, dropCursors: cursors.dropSession });
  const records = memoryRecords(state, { transactions });
  // users and sessions call each other (login changes a session; an ended session leaves the user's index)
  const users = memoryUsers(state, {
    setPrivilege: (id, next, user) => sessions.setPrivilege(id, next, user),
    remove: (id) => sessions.remove(id),
    setUser: (id, user) => sessions.setUser(id, user),
  });
  const sessions = memorySessions(state, { records, holds, users, transactions, cursors });

  return {
    kind: 'memory',
    ...sessions.steps,
    ...records.steps,
    ...holds.steps,
    ...users.steps,
    ...transactions.steps,
    ...cursors.steps,
    async countLive() {
      return { sessions: state.sessions.size, holds: holds.holdCount() };
    },
    async ping() {},
    async close() { state.sessions.clear(); },
  };
}
