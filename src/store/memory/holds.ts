import { TesseraError } from '../../core/errors.js';
import { ExpiryWheel } from '../../core/expiry-wheel.js';
import {
  nameOrder, checkConfirm, claimOf, isLiveHold, planPoolHold, planResourceHolds, poolAvailable, type PlannedHold,
} from '../../core/holds.js';
import type { AcquiredHold, HoldSteps, PoolUse, StoredClaim, StoredHold, UpkeepSteps } from '../contract.js';
import type { MemoryState } from './state.js';

export interface MemoryHolds {
  steps: HoldSteps & Pick<UpkeepSteps, 'sweepExpiredHolds'>;
  /** Holds stored, expired ones until reported (the metrics' count). */
  holdCount(): number;
  /** Moves every hold and claim of a session to its new id (inside transferSession's step). */
  moveSession(oldId: string, newId: string): void;
  /** Drops every hold of a session as it is removed (inside the caller's step). The live ones. */
  dropSession(id: string): StoredHold[];
  /** The session's hold on a name, live or not: the stored object itself, for a scope's rollback (inside its step). */
  ownHold(sessionId: string, name: string): StoredHold | undefined;
  /** Drops the session's hold on a name (inside the caller's step). */
  dropHold(sessionId: string, name: string): void;
}

/**
 * Holds, pools, fences and claims of the memory engine. Each method is one
 * synchronous pass (no await inside), so it is atomic in this process.
 */
export function memoryHolds(state: MemoryState): MemoryHolds {
  const { clock, sessions } = state;
  /** session -> name -> hold, and name -> session -> the same hold object. */
  const bySession = new Map<string, Map<string, StoredHold>>();
  const byName = new Map<string, Map<string, StoredHold>>();
  /** The last token granted per name: never removed, never lowered. */
  const fences = new Map<string, number>();
  const pools = new Map<string, number>();
  /** name -> session -> claim, and session -> names it claimed. */
  const claims = new Map<string, Map<string, StoredClaim>>();
  const claimsOf = new Map<string, Set<string>>();
  /** Holds by expiry, so a sweep reports each expired hold once, at the cost of what expired. */
  const wheel = new ExpiryWheel<StoredHold>(clock());
  const announced = new WeakSet<StoredHold>();

  const copy = (h: StoredHold): StoredHold => ({ ...h });

  function requireLive(id: string, now: number): void {
    const e = sessions.get(id);
    if (!e || e.session.nextTimeout <= now) throw new TesseraError('SESSION_INVALID');
  }

  function put(h: StoredHold): void {
    drop(bySession.get(h.sessionId)?.get(h.name));
    if (!bySession.has(h.sessionId)) bySession.set(h.sessionId, new Map());
    bySession.get(h.sessionId)!.set(h.name, h);
    if (!byName.has(h.name)) byName.set(h.name, new Map());
    byName.get(h.name)!.set(h.sessionId, h);
    wheel.set(h, h.expiresAt);
  }

  function drop(h: StoredHold | undefined): void {
    if (!h) return;
    const own = bySession.get(h.sessionId);
    own?.delete(h.name);
    if (own?.size === 0) bySession.delete(h.sessionId);
    const holders = byName.get(h.name);
    holders?.delete(h.sessionId);
    if (holders?.size === 0) byName.delete(h.name);
    wheel.delete(h);
  }

  function setClaim(c: StoredClaim): void {
    if (!claims.has(c.name)) claims.set(c.name, new Map());
    claims.get(c.name)!.set(c.sessionId, c);
    if (!claimsOf.has(c.sessionId)) claimsOf.set(c.sessionId, new Set());
    claimsOf.get(c.sessionId)!.add(c.name);
  }

  function claimsOfSession(id: string): StoredClaim[] {
    return [...claimsOf.get(id) ?? []].map((n) => ({ ...claims.get(n)!.get(id)! })).sort(nameOrder);
  }

  /** A hold blocks others while it is live and so is its session (an expired session's holds go before any sweep). */
  function blocks(h: StoredHold, now: number): boolean {
    return isLiveHold(h, now) && (sessions.get(h.sessionId)?.session.nextTimeout ?? 0) > now;
  }

  function liveOthers(name: string, sessionId: string, now: number): StoredHold[] {
    return [...byName.get(name)?.values() ?? []].filter((h) => h.sessionId !== sessionId && blocks(h, now));
  }

  function ownLive(sessionId: string, name: string, now: number): StoredHold | null {
    const h = bySession.get(sessionId)?.get(name);
    return h && isLiveHold(h, now) ? h : null;
  }

  function grant(sessionId: string, p: PlannedHold, quantity: number | null): AcquiredHold {
    let h = bySession.get(sessionId)?.get(p.name);
    if (p.fresh || !h) {
      fences.set(p.name, Math.max(fences.get(p.name) ?? 0, p.token));
      h = { name: p.name, sessionId, quantity, token: p.token, expiresAt: p.expiresAt };
      put(h);
    } else {
      h.expiresAt = p.expiresAt;
      h.quantity = quantity;
      wheel.set(h, h.expiresAt);
    }
    return { ...h, fresh: p.fresh };
  }

  const unitsOf = (hs: Iterable<{ quantity: number | null }>) => [...hs].reduce((n, h) => n + (h.quantity ?? 0), 0);

  function poolUse(name: string, now: number): PoolUse | null {
    const capacity = pools.get(name);
    if (capacity === undefined) return null;
    const held = unitsOf([...byName.get(name)?.values() ?? []].filter((h) => blocks(h, now)));
    const claimed = unitsOf(claims.get(name)?.values() ?? []);
    return { name, capacity, held, claimed, free: poolAvailable(capacity, held, claimed) };
  }

  return {
    holdCount: () => wheel.size,
    ownHold: (sessionId, name) => bySession.get(sessionId)?.get(name),
    dropHold: (sessionId, name) => drop(bySession.get(sessionId)?.get(name)),

    dropSession(id) {
      const now = clock();
      const own = [...bySession.get(id)?.values() ?? []];
      own.forEach(drop);
      return own.filter((h) => isLiveHold(h, now)).map(copy);
    },

    moveSession(oldId, newId) {
      const own = bySession.get(oldId);
      if (own) {
        bySession.delete(oldId);
        bySession.set(newId, own);
        for (const h of own.values()) {
          byName.get(h.name)!.delete(oldId);
          h.sessionId = newId;
          byName.get(h.name)!.set(newId, h);
        }
      }
      const claimed = claimsOf.get(oldId);
      if (claimed) {
        claimsOf.delete(oldId);
        for (const name of claimed) {
          const c = claims.get(name)!.get(oldId)!;
          claims.get(name)!.delete(oldId);
          setClaim({ ...c, sessionId: newId });
        }
      }
    },

    steps: {
      async holdResources(sessionId, names, ttlMs) {
        const now = clock();
        requireLive(sessionId, now);
        const plan = planResourceHolds(names.map((name) => {
          const mine = ownLive(sessionId, name, now);
          return {
            name, isPool: pools.has(name), claimed: (claims.get(name)?.size ?? 0) > 0,
            heldByOther: liveOthers(name, sessionId, now).length > 0,
            mine: mine && mine.quantity === null ? mine : null, fence: fences.get(name) ?? 0,
          };
        }), now, ttlMs);
        return plan.map((p) => grant(sessionId, p, null));
      },

      async holdPool(sessionId, pool, quantity, ttlMs) {
        const now = clock();
        requireLive(sessionId, now);
        const mine = ownLive(sessionId, pool, now);
        const p = planPoolHold({
          name: pool, capacity: pools.get(pool) ?? null, heldByOthers: unitsOf(liveOthers(pool, sessionId, now)),
          claimed: unitsOf(claims.get(pool)?.values() ?? []),
          mine: mine && mine.quantity !== null ? { quantity: mine.quantity, token: mine.token, expiresAt: mine.expiresAt } : null,
          fence: fences.get(pool) ?? 0,
        }, quantity, now, ttlMs);
        return grant(sessionId, p, p.quantity);
      },

      async readHolds(sessionId) {
        const now = clock();
        requireLive(sessionId, now);
        const own = [...bySession.get(sessionId)?.values() ?? []].sort(nameOrder);
        const expired = own.filter((h) => !isLiveHold(h, now));
        expired.forEach(drop);
        return {
          live: own.filter((h) => isLiveHold(h, now)).map(copy),
          expired: expired.map((h) => ({ ...h, announced: announced.has(h) })),
          claims: claimsOfSession(sessionId),
        };
      },

      async renewHolds(sessionId, ttlMs) {
        const now = clock();
        requireLive(sessionId, now);
        const live = [...bySession.get(sessionId)?.values() ?? []].filter((h) => isLiveHold(h, now)).sort(nameOrder);
        for (const h of live) {
          h.expiresAt = Math.max(h.expiresAt, now + ttlMs);
          wheel.set(h, h.expiresAt);
        }
        return live.map(copy);
      },

      async releaseHolds(sessionId, names) {
        const now = clock();
        requireLive(sessionId, now);
        const own = bySession.get(sessionId);
        const targets = (names ?? [...own?.keys() ?? []]).map((n) => own?.get(n)).filter((h): h is StoredHold => h !== undefined);
        targets.forEach(drop);
        return targets.filter((h) => isLiveHold(h, now)).sort(nameOrder).map(copy);
      },

      async confirmHolds(sessionId, names) {
        const now = clock();
        requireLive(sessionId, now);
        const ok = checkConfirm(names, bySession.get(sessionId) ?? new Map(), now,
          (h) => (fences.get(h.name) ?? 0) === h.token && (claims.get(h.name)?.size ?? 0) === 0);
        return ok.map((h) => {
          drop(h);
          const claim = claimOf(h, claims.get(h.name)?.get(sessionId) ?? null, now);
          setClaim(claim);
          return { ...claim };
        });
      },

      async setPool(name, capacity) {
        const now = clock();
        const holders = [...byName.get(name)?.values() ?? []].filter((h) => blocks(h, now));
        const claimed = [...claims.get(name)?.values() ?? []];
        if (holders.some((h) => h.quantity === null) || claimed.some((c) => c.quantity === null)) {
          throw new TesseraError('HOLD_CONFLICT', `'${name}' is held or claimed as a resource.`, { conflicts: [name] });
        }
        pools.set(name, capacity);
        return { name, capacity, available: poolAvailable(capacity, unitsOf(holders), unitsOf(claimed)) };
      },

      async freeClaims(name) {
        const freed = claims.get(name);
        if (!freed) return 0;
        claims.delete(name);
        for (const id of freed.keys()) {
          claimsOf.get(id)?.delete(name);
          if (claimsOf.get(id)?.size === 0) claimsOf.delete(id);
        }
        return freed.size;
      },

      async listPools(limit) {
        const now = clock();
        return [...pools.keys()].sort().slice(0, limit).map((name) => poolUse(name, now)!);
      },

      async getPool(name) {
        return poolUse(name, clock());
      },

      async listClaims(prefix, limit) {
        const out: StoredClaim[] = [];
        for (const name of [...claims.keys()].filter((n) => n.startsWith(prefix)).sort()) {
          for (const c of [...claims.get(name)!.values()].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1))) {
            if (out.length >= limit) return out;
            out.push({ ...c });
          }
        }
        return out;
      },

      async listHolds(prefix, limit) {
        const now = clock();
        const out: StoredHold[] = [];
        for (const name of [...byName.keys()].filter((n) => n.startsWith(prefix)).sort()) {
          for (const h of [...byName.get(name)!.values()].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1))) {
            if (out.length >= limit) return out;
            if (isLiveHold(h, now)) out.push(copy(h));
          }
        }
        return out;
      },

      async sweepExpiredHolds(limit) {
        const now = clock();
        const out: StoredHold[] = [];
        for (const h of wheel.takeDue(now, limit)) {
          if (isLiveHold(h, now)) wheel.set(h, h.expiresAt); // the wheel rounds up to the second
          else {
            announced.add(h);
            out.push(copy(h));
          }
        }
        return out;
      },
    },
  };
}
