import { sameHash } from './keys.js';

/** How a session's key rotates: on every request, or only when its user or roles change. */
export const ROTATIONS = ['per-request', 'on-privilege-change'] as const;
export type Rotation = (typeof ROTATIONS)[number];

export interface SessionUser {
  name: string;
  roles: string[];
}

/** What a session is, as the store keeps it (times in ms since the epoch). */
export interface SessionInfo {
  id: string;
  /** The API client that created it and owns it. */
  client: string;
  rotation: Rotation;
  queue: boolean;
  /** Seconds. */
  idleTimeout: number;
  /** Seconds. */
  lifespan: number;
  createdAt: number;
  lastAccessAt: number;
  /** min(lastAccessAt + idleTimeout, createdAt + lifespan). */
  nextTimeout: number;
  /** createdAt + lifespan. */
  expiresAt: number;
  user: SessionUser | null;
}

export function nextTimeoutOf(s: Pick<SessionInfo, 'createdAt' | 'lifespan' | 'idleTimeout'>, lastAccessAt: number): number {
  return Math.min(lastAccessAt + s.idleTimeout * 1000, s.createdAt + s.lifespan * 1000);
}

/** How many superseded keys a session remembers, to recognise a replay. */
export const REMEMBERED_KEYS = 16;

/** Bytes of one key hash (SHA-256). */
const HASH_BYTES = 32;

/**
 * The key material of a session. Only hashes of keys; `graceSalt` is the salt
 * that derived the current key from the newest superseded key (see keys.ts).
 */
export interface KeyState {
  keyHash: Buffer;
  /** The superseded key hashes, newest first, concatenated (at most REMEMBERED_KEYS of HASH_BYTES each). */
  superseded: Buffer;
  /**
   * Whether the newest superseded key is still served (ms), and how long:
   * 0: not at all; negative: for as long as the current key has not been
   * presented (the client never provably got it), then until -graceUntil;
   * positive: until then (the current key has been presented). See checkKey.
   */
  graceUntil: number;
  graceSalt: Buffer | null;
}

export type KeyCheck = 'current' | 'grace' | 'replayed' | 'unknown';

/**
 * Classifies a presented key hash. Every comparison is constant-time; a key
 * that is not the current one is compared against every superseded hash,
 * without early exit (the answer tells whether it was the current key anyway).
 *
 * The replay rule: a key is a replay only when the client provably received
 * its successor. The key just replaced (by a rotation with grace) is served
 * ('grace': answered with the current key, rotating nothing) for as long as
 * the current key has never been presented, however late: its answer may
 * have been lost (a store outage after the rotation committed, a node killed
 * mid-request), and whoever presents it now never got the new key. Once the
 * current key has been presented, the grace window applies: served until
 * graceUntil, a replay after. Any older key is a replay. Keys replaced by a
 * privilege change (login, logout, role change, transfer) have no grace.
 */
export function checkKey(state: KeyState, presented: Buffer, now: number): KeyCheck {
  if (sameHash(state.keyHash, presented)) return 'current';
  let supersededAt = -1;
  for (let i = 0; i + HASH_BYTES <= state.superseded.length; i += HASH_BYTES) {
    if (sameHash(state.superseded.subarray(i, i + HASH_BYTES), presented) && supersededAt < 0) supersededAt = i / HASH_BYTES;
  }
  if (supersededAt === 0 && state.graceSalt && (state.graceUntil < 0 || now < state.graceUntil)) return 'grace';
  if (supersededAt >= 0) return 'replayed';
  return 'unknown';
}

/**
 * The graceUntil of a rotation at `now` with a grace window of `graceMs`:
 * served while the new key has not been presented, then for the window
 * (negative, see KeyState); 0 (no grace at all) when the window is 0.
 */
export function graceFor(now: number, graceMs: number): number {
  return graceMs > 0 ? -(now + graceMs) : 0;
}

/**
 * The key state once the current key has been presented (without rotating):
 * the grace of the key it replaced is now the window alone. Null when
 * nothing changes (no grace pending on the current key's presentation).
 */
export function presentedCurrent(state: KeyState): KeyState | null {
  return state.graceUntil < 0 ? { ...state, graceUntil: -state.graceUntil } : null;
}

/** The key state after the current key is replaced by `next` (graceUntil: graceFor, or 0 for none). */
export function rotated(state: KeyState, next: { keyHash: Buffer; salt: Buffer }, graceUntil: number): KeyState {
  const kept = Math.min(state.superseded.length, (REMEMBERED_KEYS - 1) * HASH_BYTES);
  const superseded = Buffer.allocUnsafe(HASH_BYTES + kept);
  state.keyHash.copy(superseded, 0);
  state.superseded.copy(superseded, HASH_BYTES, 0, kept);
  return { keyHash: next.keyHash, superseded, graceUntil, graceSalt: graceUntil !== 0 ? next.salt : null };
}
