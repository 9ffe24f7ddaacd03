import { sameHash } from './keys.js';

export type Rotation = 'per-request' | 'on-privilege-change';

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
export const HASH_BYTES = 32;

/**
 * The key material of a session. Only hashes of keys; `graceSalt` is the salt
 * that derived the current key from the newest superseded key (see keys.ts).
 */
export interface KeyState {
  keyHash: Buffer;
  /** The superseded key hashes, newest first, concatenated (at most REMEMBERED_KEYS of HASH_BYTES each). */
  superseded: Buffer;
  /** Until when the newest superseded key is still served (ms); 0 when it is not. */
  graceUntil: number;
  graceSalt: Buffer | null;
}

export type KeyCheck = 'current' | 'grace' | 'replayed' | 'unknown';

/**
 * Classifies a presented key hash. Every comparison is constant-time; a key
 * that is not the current one is compared against every superseded hash,
 * without early exit (the answer tells whether it was the current key anyway).
 */
export function checkKey(state: KeyState, presented: Buffer, now: number): KeyCheck {
  if (sameHash(state.keyHash, presented)) return 'current';
  let supersededAt = -1;
  for (let i = 0; i + HASH_BYTES <= state.superseded.length; i += HASH_BYTES) {
    if (sameHash(state.superseded.subarray(i, i + HASH_BYTES), presented) && supersededAt < 0) supersededAt = i / HASH_BYTES;
  }
  if (supersededAt === 0 && now < state.graceUntil && state.graceSalt) return 'grace';
  if (supersededAt >= 0) return 'replayed';
  return 'unknown';
}

/** The key state after the current key is replaced by `next`. */
export function rotated(state: KeyState, next: { keyHash: Buffer; salt: Buffer }, graceUntil: number): KeyState {
  const kept = Math.min(state.superseded.length, (REMEMBERED_KEYS - 1) * HASH_BYTES);
  const superseded = Buffer.allocUnsafe(HASH_BYTES + kept);
  state.keyHash.copy(superseded, 0);
  state.superseded.copy(superseded, HASH_BYTES, 0, kept);
  return { keyHash: next.keyHash, superseded, graceUntil, graceSalt: graceUntil > 0 ? next.salt : null };
}
