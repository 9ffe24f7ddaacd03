import { decideAuthentication, readsPending } from '../../core/authenticate.js';
import { unlessRefused } from '../../core/records.js';
import { nextTimeoutOf, rotated, type SessionInfo, type SessionUser } from '../../core/session.js';
import type { Authentication, EndedSession, KeyRotation, SessionSteps, UpkeepSteps } from '../contract.js';
import type { MemoryCursors } from './cursors.js';
import type { MemoryHolds } from './holds.js';
import type { MemoryRecords } from './records.js';
import type { MemoryEntry, MemoryState } from './state.js';
import type { MemoryTransactions } from './transactions.js';
import type { MemoryUsers } from './users.js';

export interface MemorySessionsDeps {
  records: MemoryRecords;
  holds: MemoryHolds;
  users: MemoryUsers;
  transactions: MemoryTransactions;
  cursors: MemoryCursors;
}

export interface MemorySessions {
  steps: SessionSteps & Pick<UpkeepSteps, 'sweepExpired'>;
  /** Removes a session and all it owns, releasing its live holds (inside the caller's step). */
  remove(id: string): EndedSession | null;
  /** The raw privilege change (changePrivilege, and login inside the users' step). */
  setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null;
  /** Sets the user of a session in place (a role change), keys untouched. */
  setUser(id: string, user: SessionUser): void;
}

/** Copies a session for the caller; `user` objects are replaced, never changed, so they can be shared. */
const copy = (s: SessionInfo): SessionInfo => ({ ...s });

/** Sessions of the memory engine: each step is one synchronous pass over the maps. */
export function memorySessions(state: MemoryState, deps: MemorySessionsDeps): MemorySessions {
  const { clock, sessions, wheel, live } = state;
  const { records, holds, users, transactions, cursors } = deps;

  function remove(id: string): EndedSession | null {
    const e = sessions.get(id);
    if (!e) return null;
    sessions.delete(id);
    wheel.delete(id);
    users.gone(id, e.session.user);
    transactions.dropSession(id);
    cursors.dropSession(id);
    return { ...e.session, releasedHolds: holds.dropSession(id) };
  }

  function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null {
    const e = live(id);
    if (!e) return null;
    e.keys = rotated(e.keys, next, 0);
    users.moved(id, e.session.user, user);
    e.session.user = user === null ? null : { name: user.name, roles: [...user.roles] };
    return copy(e.session);
  }

  const steps: MemorySessions['steps'] = {
    async createSession(session, keyHash) {
      sessions.set(session.id, {
        session: copy(session),
        keys: { keyHash, superseded: Buffer.alloc(0), graceUntil: 0, graceSalt: null },
        records: new Map(),
      });
      wheel.set(session.id, session.nextTimeout);
    },

    async getSession(id) {
      const e = live(id);
      return e ? copy(e.session) : null;
    },

    async authenticate(req): Promise<Authentication> {
      const now = clock();
      const e = live(req.id, now);
      const d = decideAuthentication({
        stored: e, presented: req.keyHash, client: req.client, rotation: req.rotation, graceMs: req.graceMs, now,
        pending: e && readsPending(e.session, req.rotation) ? users.pendingRoles(req.id) : null,
      });
      if (d.outcome === 'invalid') return d;
      if (d.outcome === 'replayed') {
        remove(req.id);
        return d;
      }
      const entry = e as MemoryEntry;
      if (d.keys) entry.keys = d.keys;
      if (d.dropPending) users.dropPendingRoles(req.id);
      entry.session = d.session; // the sweep reschedules it when due
      const hasScopes = transactions.hasState(req.id);
      const written = req.write && !hasScopes ? unlessRefused(() => records.write(entry, req.write!, now)) : undefined;
      const session = copy(entry.session);
      if (d.privilegeChanged) return { outcome: 'current', session, privilegeChanged: true, scopes: hasScopes, written };
      return d.outcome === 'grace'
        ? { outcome: 'grace', session, graceSalt: d.graceSalt!, scopes: hasScopes, written }
        : { outcome: 'current', session, scopes: hasScopes, written };
    },

    async touchSession(id) {
      const now = clock();
      const e = live(id, now);
      if (!e) return null;
      e.session.lastAccessAt = now;
      e.session.nextTimeout = nextTimeoutOf(e.session, now); // the sweep reschedules it when due
      return copy(e.session);
    },

    async changePrivilege(id, next, user) {
      return setPrivilege(id, next, user);
    },

    async endSession(id) {
      return remove(id);
    },

    async transferSession(oldId, newId, keyHash) {
      const now = clock();
      const e = live(oldId, now);
      if (!e) return null;
      const session: SessionInfo = { ...e.session, id: newId, lastAccessAt: now };
      session.nextTimeout = nextTimeoutOf(session, now);
      sessions.delete(oldId);
      wheel.delete(oldId);
      sessions.set(newId, { session, keys: { keyHash, superseded: Buffer.alloc(0), graceUntil: 0, graceSalt: null }, records: e.records });
      wheel.set(newId, session.nextTimeout);
      users.gone(oldId, session.user);
      users.moved(newId, null, session.user);
      holds.moveSession(oldId, newId);
      return copy(session);
    },

    async sweepExpired(limit) {
      const now = clock();
      const out: EndedSession[] = [];
      for (const id of wheel.takeDue(now, limit)) {
        const e = sessions.get(id);
        if (!e) continue;
        if (e.session.nextTimeout > now) wheel.set(id, e.session.nextTimeout);
        else out.push(remove(id)!);
      }
      users.sweep(now, limit);
      return out;
    },
  };

  return {
    steps,
    remove,
    setPrivilege,
    setUser(id, user) {
      const e = sessions.get(id);
      if (e) e.session.user = user;
    },
  };
}
