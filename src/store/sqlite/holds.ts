import type { Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import {
  checkConfirm, claimOf, planPoolHold, planResourceHolds, poolAvailable, prefixEnd, type PlannedHold,
} from '../../core/holds.js';
import type { SessionInfo } from '../../core/session.js';
import type { AcquiredHold, HoldSteps, PoolUse, StoredClaim, StoredHold, UpkeepSteps } from '../contract.js';
import type { SqliteDatabase } from './database.js';

export interface SqliteHolds {
  steps: HoldSteps & Pick<UpkeepSteps, 'sweepExpiredHolds'>;
  /** Moves every hold and claim of a session to its new id (inside transferSession's step). */
  moveSession(oldId: string, newId: string): void;
  /** Deletes every hold of a session as it is removed (call inside the caller's step). The live ones. */
  dropSession(id: string): StoredHold[];
}

/** Tables in schema.ts. `fences` rows are never deleted, so a token never goes back, across restarts too. */
const SESSION_LIVE = 'EXISTS (SELECT 1 FROM sessions s WHERE s.id = h.session_id AND s.next_timeout > @now)';

interface HoldRow { session_id: string; name: string; quantity: number | null; token: number; expires_at: number; announced: number }
interface ClaimRow { name: string; session_id: string; quantity: number | null; token: number; confirmed_at: number }

const toHold = (r: HoldRow): StoredHold => ({ name: r.name, sessionId: r.session_id, quantity: r.quantity, token: r.token, expiresAt: r.expires_at });
const toClaim = (r: ClaimRow): StoredClaim => ({ name: r.name, sessionId: r.session_id, quantity: r.quantity, token: r.token, confirmedAt: r.confirmed_at });

/**
 * Holds, pools, fences and claims of the SQLite engine. Every method is one
 * `step`: one savepoint inside the turn's BEGIN IMMEDIATE transaction, so it
 * reads and writes under the database's write lock, atomically, even with
 * several processes on one file.
 */
export function sqliteHolds(sql: SqliteDatabase, clock: Clock, deps: {
  /** The live session with this id (by the store's clock), or null. */
  liveSession: (id: string, now: number) => SessionInfo | null;
}): SqliteHolds {
  const { db, step } = sql;
  const { liveSession } = deps;
  const q = {
    own: db.prepare<[string]>('SELECT * FROM holds WHERE session_id = ? ORDER BY name'),
    ownOne: db.prepare<[string, string]>('SELECT * FROM holds WHERE session_id = ? AND name = ?'),
    fence: db.prepare<[string]>('SELECT token FROM fences WHERE name = ?').pluck(),
    // max(): a token never goes back, whatever a caller asks.
    setFence: db.prepare<[string, number]>(`INSERT INTO fences VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET token = max(token, excluded.token)`),
    capacity: db.prepare<[string]>('SELECT capacity FROM pools WHERE name = ?').pluck(),
    claimed: db.prepare<[string]>('SELECT count(*) AS n, coalesce(sum(quantity), 0) AS units, count(*) - count(quantity) AS exclusive FROM claims WHERE name = ?'),
    // A hold blocks others while it is live and so is its session: an expired
    // session's holds stop counting at once, before the sweep removes them.
    heldByOther: db.prepare(`SELECT 1 FROM holds h WHERE name = @name AND session_id <> @id AND expires_at > @now
      AND ${SESSION_LIVE} LIMIT 1`).pluck(),
    unitsByOthers: db.prepare(`SELECT coalesce(sum(quantity), 0) FROM holds h
      WHERE name = @name AND session_id <> @id AND expires_at > @now AND ${SESSION_LIVE}`).pluck(),
    liveOn: db.prepare(`SELECT coalesce(sum(quantity), 0) AS units, count(*) - count(quantity) AS exclusive
      FROM holds h WHERE name = @name AND expires_at > @now AND ${SESSION_LIVE}`),
    upsert: db.prepare(`INSERT INTO holds VALUES (@session_id, @name, @quantity, @token, @expires_at, 0)
      ON CONFLICT (session_id, name) DO UPDATE SET quantity = excluded.quantity, token = excluded.token,
      expires_at = excluded.expires_at, announced = 0`),
    dropOne: db.prepare<[string, string]>('DELETE FROM holds WHERE session_id = ? AND name = ?'),
    dropAll: db.prepare<[string]>('DELETE FROM holds WHERE session_id = ?'),
    renew: db.prepare('UPDATE holds SET expires_at = max(expires_at, @until) WHERE session_id = @id AND expires_at > @now'),
    claimsOf: db.prepare<[string]>('SELECT * FROM claims WHERE session_id = ? ORDER BY name'),
    claim: db.prepare<[string, string]>('SELECT * FROM claims WHERE name = ? AND session_id = ?'),
    putClaim: db.prepare('INSERT OR REPLACE INTO claims VALUES (@name, @sessionId, @quantity, @token, @confirmedAt)'),
    freeClaims: db.prepare<[string]>('DELETE FROM claims WHERE name = ?'),
    pools: db.prepare<[number]>('SELECT name, capacity FROM pools ORDER BY name LIMIT ?'),
    claimList: db.prepare('SELECT * FROM claims WHERE name >= @lo AND name < @hi ORDER BY name, session_id LIMIT @limit'),
    setPool: db.prepare<[string, number]>('INSERT INTO pools VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity'),
    list: db.prepare(`SELECT * FROM holds WHERE name >= @lo AND name < @hi AND expires_at > @now
      ORDER BY name, session_id LIMIT @limit`),
    due: db.prepare<[number, number]>('SELECT * FROM holds WHERE announced = 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?'),
    announce: db.prepare<[string, string]>('UPDATE holds SET announced = 1 WHERE session_id = ? AND name = ?'),
    moveHolds: db.prepare('UPDATE holds SET session_id = @new WHERE session_id = @old'),
    moveClaims: db.prepare('UPDATE claims SET session_id = @new WHERE session_id = @old'),
  };

  function requireLive(id: string, now: number): void {
    if (!liveSession(id, now)) throw new TesseraError('SESSION_INVALID');
  }

  function ownLive(sessionId: string, name: string, now: number): HoldRow | null {
    const r = q.ownOne.get(sessionId, name) as HoldRow | undefined;
    return r && r.expires_at > now ? r : null;
  }

  function grant(sessionId: string, p: PlannedHold, quantity: number | null): AcquiredHold {
    if (p.fresh) q.setFence.run(p.name, p.token);
    q.upsert.run({ session_id: sessionId, name: p.name, quantity, token: p.token, expires_at: p.expiresAt });
    return { name: p.name, sessionId, quantity, token: p.token, expiresAt: p.expiresAt, fresh: p.fresh };
  }

  const fenceOf = (name: string) => (q.fence.get(name) as number | undefined) ?? 0;
  const poolUse = (name: string, capacity: number, now: number): PoolUse => {
    const held = (q.liveOn.get({ name, now }) as { units: number }).units;
    const claimed = claimedOn(name).units;
    return { name, capacity, held, claimed, free: poolAvailable(capacity, held, claimed) };
  };
  const claimedOn = (name: string) => q.claimed.get(name) as { n: number; units: number; exclusive: number };

  return {
    dropSession(id) {
      const now = clock();
      const live = (q.own.all(id) as HoldRow[]).filter((r) => r.expires_at > now).map(toHold);
      q.dropAll.run(id);
      return live;
    },

    moveSession(oldId, newId) {
      const ids = { old: oldId, new: newId };
      q.moveHolds.run(ids);
      q.moveClaims.run(ids);
    },

    steps: {
      holdResources: step((sessionId: string, names: string[], ttlMs: number) => {
        const now = clock();
        requireLive(sessionId, now);
        const plan = planResourceHolds(names.map((name) => {
          const mine = ownLive(sessionId, name, now);
          return {
            name, isPool: q.capacity.get(name) !== undefined, claimed: claimedOn(name).n > 0,
            heldByOther: q.heldByOther.get({ name, id: sessionId, now }) !== undefined,
            mine: mine && mine.quantity === null ? { token: mine.token, expiresAt: mine.expires_at } : null,
            fence: fenceOf(name),
          };
        }), now, ttlMs);
        return plan.map((p) => grant(sessionId, p, null));
      }),

      holdPool: step((sessionId: string, pool: string, quantity: number, ttlMs: number) => {
        const now = clock();
        requireLive(sessionId, now);
        const mine = ownLive(sessionId, pool, now);
        const p = planPoolHold({
          name: pool, capacity: (q.capacity.get(pool) as number | undefined) ?? null,
          heldByOthers: q.unitsByOthers.get({ name: pool, id: sessionId, now }) as number, claimed: claimedOn(pool).units,
          mine: mine && mine.quantity !== null ? { quantity: mine.quantity, token: mine.token, expiresAt: mine.expires_at } : null,
          fence: fenceOf(pool),
        }, quantity, now, ttlMs);
        return grant(sessionId, p, p.quantity);
      }),

      readHolds: step((sessionId: string) => {
        const now = clock();
        requireLive(sessionId, now);
        const own = q.own.all(sessionId) as HoldRow[];
        const expired = own.filter((r) => r.expires_at <= now);
        for (const r of expired) q.dropOne.run(sessionId, r.name);
        return {
          live: own.filter((r) => r.expires_at > now).map(toHold),
          expired: expired.map((r) => ({ ...toHold(r), announced: r.announced === 1 })),
          claims: (q.claimsOf.all(sessionId) as ClaimRow[]).map(toClaim),
        };
      }),

      renewHolds: step((sessionId: string, ttlMs: number) => {
        const now = clock();
        requireLive(sessionId, now);
        q.renew.run({ id: sessionId, until: now + ttlMs, now });
        return (q.own.all(sessionId) as HoldRow[]).filter((r) => r.expires_at > now).map(toHold);
      }),

      releaseHolds: step((sessionId: string, names: string[] | null) => {
        const now = clock();
        requireLive(sessionId, now);
        const own = q.own.all(sessionId) as HoldRow[];
        const targets = names === null ? own : own.filter((r) => names.includes(r.name));
        for (const r of targets) q.dropOne.run(sessionId, r.name);
        return targets.filter((r) => r.expires_at > now).map(toHold);
      }),

      // The sale: the check (session's own row, live by this clock, token still
      // the fence of its name, no claim) and the writes happen in this one step.
      confirmHolds: step((sessionId: string, names: string[] | null) => {
        const now = clock();
        requireLive(sessionId, now);
        const own = new Map((q.own.all(sessionId) as HoldRow[]).map((r) => [r.name, toHold(r)]));
        const ok = checkConfirm(names, own, now, (h) => fenceOf(h.name) === h.token && claimedOn(h.name).n === 0);
        return ok.map((h) => {
          const earlier = q.claim.get(h.name, sessionId) as ClaimRow | undefined;
          const claim = claimOf(h, earlier ? toClaim(earlier) : null, now);
          q.dropOne.run(sessionId, h.name);
          q.putClaim.run(claim);
          return claim;
        });
      }),

      setPool: step((name: string, capacity: number) => {
        const now = clock();
        const held = q.liveOn.get({ name, now }) as { units: number; exclusive: number };
        const claimed = claimedOn(name);
        if (held.exclusive > 0 || claimed.exclusive > 0) {
          throw new TesseraError('HOLD_CONFLICT', `'${name}' is held or claimed as a resource.`, { conflicts: [name] });
        }
        q.setPool.run(name, capacity);
        return { name, capacity, available: poolAvailable(capacity, held.units, claimed.units) };
      }),

      freeClaims: step((name: string) => q.freeClaims.run(name).changes),

      listPools: step((limit: number) => {
        const now = clock();
        return (q.pools.all(limit) as { name: string; capacity: number }[]).map((p) => poolUse(p.name, p.capacity, now));
      }, { savepoint: false }),

      getPool: step((name: string) => {
        const capacity = q.capacity.get(name) as number | undefined;
        return capacity === undefined ? null : poolUse(name, capacity, clock());
      }, { savepoint: false }),

      listClaims: step((prefix: string, limit: number) =>
        (q.claimList.all({ lo: prefix, hi: prefixEnd(prefix), limit }) as ClaimRow[]).map(toClaim), { savepoint: false }),

      listHolds: step((prefix: string, limit: number) =>
        (q.list.all({ lo: prefix, hi: prefixEnd(prefix), now: clock(), limit }) as HoldRow[]).map(toHold)),

      sweepExpiredHolds: step((limit: number) => {
        const rows = q.due.all(clock(), limit) as HoldRow[];
        for (const r of rows) q.announce.run(r.session_id, r.name);
        return rows.map(toHold);
      }),
    },
  };
}
