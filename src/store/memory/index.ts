import { systemClock, type Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import { ExpiryWheel } from '../../core/expiry-wheel.js';
import { checkDelete, isLive, planWrite, unlessRefused } from '../../core/records.js';
import { checkKey, nextTimeoutOf, rotated, type KeyState, type SessionInfo, type SessionUser } from '../../core/session.js';
import type { AuthRequest, Authentication, EndedSession, KeyRotation, RecordWrite, SessionStore, StoredRecord } from '../contract.js';
import { memoryCursors } from './cursors.js';
import { memoryHolds } from './holds.js';
import { memoryUsers } from './users.js';
import { memoryTransactions } from './transactions.js';
import type { MemoryEntry } from './state.js';

export interface MemoryStoreOptions {
  /** The store's clock. @default Date.now */
  clock?: Clock;
}

/** Copies a session for the caller; `user` objects are replaced, never changed, so they can be shared. */
const copy = (s: SessionInfo): SessionInfo => ({ ...s });

/** Everything in this process's memory: for tests, development and one-node use. */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const clock = options.clock ?? systemClock;
  const sessions = new Map<string, MemoryEntry>();
  const wheel = new ExpiryWheel<string>(clock());
  const holds = memoryHolds(clock, sessions, wheel);
  const { dropSession: _dropSession, ownHold: _ownHold, dropHold: _dropHold, ...holdMethods } = holds;
  const cursors = memoryCursors(clock, (id, now) => live(id, now) !== null);
  const scopes = memoryTransactions(clock, sessions, holds, cursors.dropSession);
  const { put: _put, remove: _remove, read: _read, touch: _touch, dropSession: _dropScopes, ...scopeMethods } = scopes;
  const { dropSession: _dropCursors, ...cursorMethods } = cursors;

  function live(id: string, now = clock()): MemoryEntry | null {
    const e = sessions.get(id);
    return e && e.session.nextTimeout > now ? e : null;
  }

  function liveOrInvalid(id: string): MemoryEntry {
    const e = live(id);
    if (!e) throw new TesseraError('SESSION_INVALID');
    return e;
  }

  function liveEntries(map: Map<string, StoredRecord> | undefined, now: number): StoredRecord[] {
    if (!map) return [];
    const out: StoredRecord[] = [];
    for (const [k, r] of map) {
      if (isLive(r.expiresAt, now)) out.push(r);
      else map.delete(k);
    }
    return out;
  }

  /** A record write outside any scope (putRecord's rules); throws its refusal. */
  function writeRecord(e: MemoryEntry, w: RecordWrite, now: number): StoredRecord {
    const map = e.records.get(w.name);
    const entries = liveEntries(map, now);
    const current = map?.get(w.key ?? '');
    const liveRecords = [...e.records.keys()].filter((n) => n === w.name ? entries.length > 0 : liveEntries(e.records.get(n), now).length > 0).length;
    const version = planWrite(w, {
      liveKind: entries[0]?.kind ?? null,
      currentVersion: current ? current.version : 0,
      liveEntries: entries.length,
      liveRecords,
    });
    const record: StoredRecord = {
      name: w.name, key: w.key, kind: w.kind, value: w.value, version,
      updatedAt: now, ttlMs: w.ttlMs, expiresAt: w.ttlMs === null ? null : now + w.ttlMs,
    };
    if (map && entries.length > 0) map.set(w.key ?? '', record);
    else e.records.set(w.name, new Map([[w.key ?? '', record]]));
    return { ...record };
  }

  function remove(id: string): EndedSession | null {
    const e = sessions.get(id);
    if (!e) return null;
    sessions.delete(id);
    wheel.delete(id);
    users.gone(id, e.session.user);
    scopes.dropSession(id);
    cursors.dropSession(id);
    return { ...e.session, releasedHolds: holds.dropSession(id) };
  }

  // The raw privilege change, shared with the users part (login).
  function setPrivilege(id: string, next: KeyRotation, user: SessionUser | null): SessionInfo | null {
    const e = live(id);
    if (!e) return null;
    e.keys = rotated(e.keys, next, 0);
    users.moved(id, e.session.user, user);
    e.session.user = user === null ? null : { name: user.name, roles: [...user.roles] };
    return copy(e.session);
  }

  const users = memoryUsers({
    clock,
    live: (id, now) => {
      const e = live(id, now);
      return e ? copy(e.session) : null;
    },
    setPrivilege,
    remove,
    setUser: (id, user) => {
      const e = sessions.get(id);
      if (e) e.session.user = user;
    },
    allIds: () => sessions.keys(),
  });

  return {
    kind: 'memory',

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

    async authenticate(req: AuthRequest): Promise<Authentication> {
      const now = clock();
      const e = live(req.id, now);
      if (!e || (req.client !== null && e.session.client !== req.client)) return { outcome: 'invalid' };
      const check = checkKey(e.keys, req.keyHash, now);
      if (check === 'unknown') return { outcome: 'invalid' };
      if (check === 'replayed') {
        remove(req.id);
        return { outcome: 'replayed', session: copy(e.session) };
      }
      if (check === 'current' && req.rotation && e.session.rotation === 'per-request') e.keys = rotated(e.keys, req.rotation, now + req.graceMs);
      e.session.lastAccessAt = now;
      e.session.nextTimeout = nextTimeoutOf(e.session, now); // the sweep reschedules it when due
      // A role change made by an admin: served under the new roles, with a new key and no grace.
      const roles = e.session.user && req.rotation ? users.takePendingRoles(req.id, e.session.user.name) : null;
      const hasScopes = scopes.hasState(req.id);
      const written = req.write && !hasScopes ? unlessRefused(() => writeRecord(e, req.write!, now)) : undefined;
      if (roles) {
        e.keys = rotated(e.keys, req.rotation!, 0);
        e.session.user = { name: e.session.user!.name, roles };
        return { outcome: 'current', session: copy(e.session), privilegeChanged: true, scopes: hasScopes, written };
      }
      const session = copy(e.session);
      return check === 'grace'
        ? { outcome: 'grace', session, graceSalt: e.keys.graceSalt!, scopes: hasScopes, written }
        : { outcome: 'current', session, scopes: hasScopes, written };
    },

    async touchSession(id: string) {
      const now = clock();
      const e = live(id, now);
      if (!e) return null;
      e.session.lastAccessAt = now;
      e.session.nextTimeout = nextTimeoutOf(e.session, now); // the sweep reschedules it when due
      return copy(e.session);
    },

    async changePrivilege(id: string, next: KeyRotation, user: SessionUser | null) {
      return setPrivilege(id, next, user);
    },

    async putRecord(sessionId: string, w: RecordWrite) {
      const now = clock();
      const e = liveOrInvalid(sessionId);
      return scopes.put(e, w, now) ?? writeRecord(e, w, now);
    },

    async getRecord(sessionId, name) {
      const e = liveOrInvalid(sessionId);
      return scopes.read(e, name, clock()) ?? liveEntries(e.records.get(name), clock()).sort(byKey).map((r) => ({ ...r }));
    },

    async listRecords(sessionId) {
      const e = liveOrInvalid(sessionId);
      const now = clock();
      const scoped = scopes.read(e, null, now);
      if (scoped) return scoped;
      const out: StoredRecord[] = [];
      for (const name of [...e.records.keys()].sort()) out.push(...liveEntries(e.records.get(name), now).sort(byKey));
      return out.map((r) => ({ ...r }));
    },

    async deleteRecord(sessionId, name, key, ifVersion) {
      const e = liveOrInvalid(sessionId);
      const scoped = scopes.remove(e, name, key, ifVersion, clock());
      if (scoped !== null) return scoped;
      const map = e.records.get(name);
      const entries = liveEntries(map, clock());
      if (key === null) {
        if (entries.length === 0) return false;
        checkDelete(ifVersion, entries[0], true);
        e.records.delete(name);
        return true;
      }
      const current = map?.get(key);
      if (!current || !entries.includes(current)) return false;
      checkDelete(ifVersion, current, false);
      map!.delete(key);
      return true;
    },

    async touchRecords(sessionId) {
      const e = liveOrInvalid(sessionId);
      const now = clock();
      scopes.touch(sessionId, now);
      for (const map of e.records.values()) {
        for (const r of liveEntries(map, now)) if (r.ttlMs !== null) r.expiresAt = now + r.ttlMs;
      }
    },

    async endSession(id) {
      const ended = remove(id);
      return ended;
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

    ...holdMethods,

    // The session moves in the user index too: the old id leaves it, the new one takes its place.
    async transferSession(oldId, newId, keyHash) {
      const moved = await holdMethods.transferSession(oldId, newId, keyHash);
      if (moved) {
        users.gone(oldId, moved.user);
        users.moved(newId, null, moved.user);
      }
      return moved;
    },
    ...users.methods,
    ...scopeMethods,
    ...cursorMethods,
    async ping() {},
    async close() { sessions.clear(); },
  };
}

function byKey(a: StoredRecord, b: StoredRecord): number {
  return (a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0;
}
