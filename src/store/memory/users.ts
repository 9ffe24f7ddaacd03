import { ExpiryWheel } from '../../core/expiry-wheel.js';
import type { PendingRoles } from '../../core/authenticate.js';
import type { SessionInfo, SessionUser } from '../../core/session.js';
import { forgetAttempt, logAttempt, logExpiry, sameRoles, throttleWait, type StoredUser, type ThrottleRule, type UserChange } from '../../core/users.js';
import type { KeyRotation, LoginOutcome, UserPut, UserSteps } from '../contract.js';
import type { MemoryState } from './state.js';

/**
 * Users, the index of sessions by user, pending role changes and login
 * throttling, for the memory engine. The engine tells it when a session
 * changes user or goes (`moved`, `gone`), so the index holds exactly the
 * sessions that exist; reads also skip the expired ones before any sweep.
 */
export interface MemoryUsersDeps {
  /** The raw privilege change of sessions.ts. */
  setPrivilege: (id: string, next: KeyRotation, user: SessionUser | null) => SessionInfo | null;
  /** The raw removal of a session; answers it, or null. */
  remove: (id: string) => SessionInfo | null;
  /** Sets the user of a live session in place (a role change), keys untouched. */
  setUser: (id: string, user: SessionUser) => void;
}

export interface MemoryUsers {
  steps: UserSteps;
  /** A session changed user (login, logout): reindex it and drop a pending role change. */
  moved(id: string, before: SessionUser | null, after: SessionUser | null): void;
  /** A session is gone (ended, revoked, expired). */
  gone(id: string, user: SessionUser | null): void;
  /** The role change pending for a session (not cleared: see dropPendingRoles). */
  pendingRoles(id: string): PendingRoles | null;
  /** Drops the role change pending for a session (inside the caller's step). */
  dropPendingRoles(id: string): void;
  sweep(now: number, limit: number): void;
}

export function memoryUsers(state: MemoryState, deps: MemoryUsersDeps): MemoryUsers {
  const { clock } = state;
  const liveSession = (id: string, now: number): SessionInfo | null => {
    const e = state.live(id, now);
    return e ? { ...e.session } : null;
  };
  const users = new Map<string, StoredUser>();
  const byUser = new Map<string, Set<string>>();
  const pending = new Map<string, PendingRoles>();
  const attempts = new Map<string, number[]>();
  const attemptExpiry = new ExpiryWheel<string>(clock());
  const copy = (u: StoredUser): StoredUser => ({ ...u, roles: [...u.roles] });

  function index(id: string, name: string): void {
    let set = byUser.get(name);
    if (!set) byUser.set(name, (set = new Set()));
    set.add(id);
  }

  function unindex(id: string, name: string): void {
    const set = byUser.get(name);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) byUser.delete(name);
  }

  function liveOf(name: string, now: number): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const id of byUser.get(name) ?? []) {
      const s = liveSession(id, now);
      if (s) out.push(s);
    }
    return out;
  }

  function endSessionsOf(name: string): SessionInfo[] {
    // holds: released by the engine's remove, as for any ended session
    return liveOf(name, clock()).map((s) => deps.remove(s.id)!);
  }

  const steps: UserSteps = {
    async getUser(name) {
      const u = users.get(name);
      return u ? copy(u) : null;
    },

    async listUsers() {
      return [...users.keys()].sort().map((n) => copy(users.get(n)!));
    },

    async putUser(name: string, change: UserChange): Promise<UserPut> {
      const now = clock();
      const current = users.get(name);
      if (!current) {
        if (change.passwordHash === undefined) return { user: null, created: false, ended: [] };
        const user = { name, passwordHash: change.passwordHash, roles: [...(change.roles ?? [])], createdAt: now, updatedAt: now };
        users.set(name, user);
        return { user: copy(user), created: true, ended: [] };
      }
      if (change.ifAbsent) return { user: copy(current), created: false, ended: [] };
      const roles = change.roles ? [...change.roles] : current.roles;
      const rolesChanged = !sameRoles(roles, current.roles);
      const user = { ...current, passwordHash: change.passwordHash ?? current.passwordHash, roles, updatedAt: now };
      users.set(name, user);
      let ended: SessionInfo[] = [];
      if (change.passwordHash !== undefined) ended = endSessionsOf(name);
      else if (rolesChanged) {
        for (const s of liveOf(name, now)) {
          deps.setUser(s.id, { name, roles: [...roles] });
          pending.set(s.id, { name, roles: [...roles] });
        }
      }
      return { user: copy(user), created: false, ended };
    },

    async deleteUser(name) {
      const deleted = users.delete(name);
      return { deleted, ended: deleted ? endSessionsOf(name) : [] };
    },

    async loginUser(id: string, next: KeyRotation, name: string, passwordHash: string): Promise<LoginOutcome> {
      const user = users.get(name);
      if (!user || user.passwordHash !== passwordHash) return { outcome: 'user_changed' };
      const session = deps.setPrivilege(id, next, { name, roles: [...user.roles] });
      return session ? { outcome: 'ok', session } : { outcome: 'session_gone' };
    },

    async listSessions(user, after, limit) {
      const now = clock();
      const ids = user === null ? [...state.sessions.keys()] : [...(byUser.get(user) ?? [])];
      const out: SessionInfo[] = [];
      for (const id of ids.filter((i) => i > (after ?? '')).sort()) {
        if (out.length >= limit) break;
        const s = liveSession(id, now);
        if (s) out.push(s);
      }
      return out;
    },

    async endUserSessions(user) {
      return endSessionsOf(user);
    },

    async takeLoginAttempt(keys: string[], rule: ThrottleRule) {
      const now = clock();
      const logs = keys.map((k) => attempts.get(k) ?? []);
      const waitMs = Math.max(0, ...logs.map((log) => throttleWait(log, now, rule)));
      if (waitMs > 0) return { waitMs, at: now };
      keys.forEach((key, i) => {
        const log = logAttempt(logs[i], now, rule);
        attempts.set(key, log);
        attemptExpiry.set(key, logExpiry(log, rule));
      });
      return { waitMs: 0, at: now };
    },

    async settleLoginAttempt(keys, at) {
      for (const key of keys) {
        const log = forgetAttempt(attempts.get(key) ?? [], at);
        if (log.length > 0) attempts.set(key, log);
        else {
          attempts.delete(key);
          attemptExpiry.delete(key);
        }
      }
    },
  };

  return {
    steps,
    moved(id, before, after) {
      pending.delete(id);
      if (before) unindex(id, before.name);
      if (after) index(id, after.name);
    },
    gone(id, user) {
      pending.delete(id);
      if (user) unindex(id, user.name);
    },
    pendingRoles: (id) => pending.get(id) ?? null,
    dropPendingRoles(id) { pending.delete(id); },
    sweep(now, limit) {
      for (const key of attemptExpiry.takeDue(now, limit)) attempts.delete(key);
    },
  };
}
