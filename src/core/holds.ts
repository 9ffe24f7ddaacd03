import { invalid, TesseraError } from './errors.js';

/**
 * The rules every engine applies, inside its atomic step, to holds, pools and
 * claims (docs/protocol.md#holds-and-the-sale). Engines gather the state a step needs from their own
 * storage, ask these functions what to do, and write the answer: so the
 * memory and SQLite engines (and Redis's Lua, later) decide the same way.
 *
 * A hold row belongs to one session and one name. `quantity` is null for an
 * exclusive resource and a count for a pool. A row past `expiresAt` is dead:
 * it blocks nobody and counts for no pool, but stays (for an expiry report to
 * its session) until the session reads its holds, releases it, or ends.
 */

/** A resource or pool name. */
export const HOLD_NAME = /^[A-Za-z0-9_.:@-]{1,200}$/;
/** A prefix of hold names (the admin listing). */
export const HOLD_PREFIX = /^[A-Za-z0-9_.:@-]{0,200}$/;
/** Most names one request may hold, release or confirm. */
export const MAX_NAMES = 1000;
/** The admin listings of holds, claims and pools (`?limit=`): how many when absent, and the most. */
export const HOLD_LIST = 1000;
export const MAX_HOLD_LIST = 10_000;

export function holdName(name: unknown, field = 'resource'): string {
  if (typeof name !== 'string' || !HOLD_NAME.test(name)) throw invalid('A resource or pool name is 1 to 200 of A-Z a-z 0-9 _ . : @ -', field);
  return name;
}

export function holdPrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string' || !HOLD_PREFIX.test(prefix)) throw invalid('prefix is 0 to 200 of A-Z a-z 0-9 _ . : @ -', 'prefix');
  return prefix;
}

/** A list of names: 1 to MAX_NAMES, each valid; duplicates are merged, order kept. */
export function holdNames(names: unknown, field = 'resources'): string[] {
  if (!Array.isArray(names) || names.length === 0 || names.length > MAX_NAMES) {
    throw invalid(`'${field}' must be a list of 1 to ${MAX_NAMES} names.`, field);
  }
  return [...new Set(names.map((n) => holdName(n, field)))];
}

/** The first name after every name that starts with `prefix` (names are ASCII below 0x7f). */
export function prefixEnd(prefix: string): string {
  return `${prefix}\x7f`;
}

export function isLiveHold(h: { expiresAt: number }, now: number): boolean {
  return h.expiresAt > now;
}

/** What an engine knows about one name asked for as an exclusive resource. */
export interface ResourceState {
  name: string;
  /** The name is a pool: it cannot be held as a resource. */
  isPool: boolean;
  /** Someone confirmed it; only an admin frees it. */
  claimed: boolean;
  /** The live hold of another session on it, if any. */
  heldByOther: boolean;
  /** This session's own live hold on it, if any. */
  mine: { token: number; expiresAt: number } | null;
  /** The last token granted on this name (0: never). */
  fence: number;
}

export interface PlannedHold {
  name: string;
  token: number;
  expiresAt: number;
  /** A new grant (the fence moves to `token`), not an extension. */
  fresh: boolean;
}

/**
 * All or nothing: throws HOLD_CONFLICT naming every conflict, or plans each
 * hold. A live hold of this session is extended (never shortened) and keeps
 * its token; anything else is a new grant with the next token of its name.
 */
export function planResourceHolds(states: ResourceState[], now: number, ttlMs: number): PlannedHold[] {
  const pools = states.filter((s) => s.isPool).map((s) => s.name);
  if (pools.length > 0) {
    throw invalid(`${pools.map((p) => `'${p}'`).join(', ')} ${pools.length === 1 ? 'is a pool' : 'are pools'}: hold a pool with { pool, quantity }.`, 'resources');
  }
  const conflicts = states.filter((s) => s.claimed || s.heldByOther).map((s) => s.name);
  if (conflicts.length > 0) throw new TesseraError('HOLD_CONFLICT', undefined, { conflicts });
  return states.map((s) => s.mine
    ? { name: s.name, token: s.mine.token, expiresAt: Math.max(s.mine.expiresAt, now + ttlMs), fresh: false }
    : { name: s.name, token: s.fence + 1, expiresAt: now + ttlMs, fresh: true });
}

export interface PoolState {
  name: string;
  /** null: no such pool (it has no capacity at all). */
  capacity: number | null;
  /** Units held live by other sessions. */
  heldByOthers: number;
  /** Units confirmed (claimed) by anyone. */
  claimed: number;
  mine: { quantity: number; token: number; expiresAt: number } | null;
  fence: number;
}

export interface PlannedPoolHold extends PlannedHold {
  quantity: number;
}

/** Adds `quantity` to this session's hold on a pool, or throws POOL_EXHAUSTED. */
export function planPoolHold(state: PoolState, quantity: number, now: number, ttlMs: number): PlannedPoolHold {
  const capacity = state.capacity ?? 0;
  const mine = state.mine?.quantity ?? 0;
  const available = Math.max(0, capacity - state.heldByOthers - state.claimed - mine);
  if (quantity > available) {
    throw new TesseraError('POOL_EXHAUSTED', state.capacity === null ? `There is no pool '${state.name}'.` : undefined,
      { pool: state.name, requested: quantity, available });
  }
  return state.mine
    ? { name: state.name, quantity: mine + quantity, token: state.mine.token, expiresAt: Math.max(state.mine.expiresAt, now + ttlMs), fresh: false }
    : { name: state.name, quantity, token: state.fence + 1, expiresAt: now + ttlMs, fresh: true };
}

/** Units of a pool still free for anyone. */
export function poolAvailable(capacity: number, held: number, claimed: number): number {
  return Math.max(0, capacity - held - claimed);
}

/**
 * The check of the sale, made in the store's own step: each named hold must be
 * this session's, alive by the store's clock, and (for a resource) still carry
 * the last token granted on its name with no claim on it. Returns the holds to
 * confirm, or throws HOLDS_EXPIRED naming every one that fails; nothing held at
 * all is the same error.
 */
export function checkConfirm(
  names: string[] | null,
  own: Map<string, StoredHold>,
  now: number,
  standing: (h: StoredHold) => boolean,
): StoredHold[] {
  const targets = names ?? [...own.keys()].sort();
  const expired: string[] = [];
  const ok: StoredHold[] = [];
  for (const name of targets) {
    const h = own.get(name);
    if (!h || !isLiveHold(h, now) || (h.quantity === null && !standing(h))) expired.push(name);
    else ok.push(h);
  }
  if (expired.length > 0 || ok.length === 0) {
    throw new TesseraError('HOLDS_EXPIRED', ok.length === 0 && expired.length === 0 ? 'This session holds nothing to confirm.' : undefined, { expired });
  }
  return ok;
}

/** The claim a confirmed hold becomes, merged with the session's earlier claim on the same pool. */
export function claimOf(h: StoredHold, earlier: StoredClaim | null, now: number): StoredClaim {
  return {
    name: h.name, sessionId: h.sessionId, token: h.token, confirmedAt: now,
    quantity: h.quantity === null ? null : h.quantity + (earlier?.quantity ?? 0),
  };
}

export function nameOrder<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export interface StoredHold {
  /** The resource or pool name. */
  name: string;
  sessionId: string;
  /** Units of a pool; null for an exclusive resource. */
  quantity: number | null;
  /** The fencing token: grows with every grant on the name, never goes back. */
  token: number;
  expiresAt: number;
}

export interface AcquiredHold extends StoredHold {
  /** A new grant, not an extension of a live hold. */
  fresh: boolean;
}

export interface StoredClaim {
  name: string;
  sessionId: string;
  /** Units of a pool (all the session confirmed of it); null for a resource. */
  quantity: number | null;
  token: number;
  confirmedAt: number;
}
