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

/**
 * The key material of a session. Only hashes of keys; `graceSalt` is the salt
 * that derived the current key from `superseded[0]` (see keys.ts).
 */
export interface KeyState {
  keyHash: Buffer;
  /** Newest first, at most REMEMBERED_KEYS. */
  superseded: Buffer[];
  /** Until when superseded[0] is still served (ms); 0 when it is not. */
  graceUntil: number;
  graceSalt: Buffer | null;
}

export type KeyCheck = 'current' | 'grace' | 'replayed' | 'unknown';

/** Classifies a presented key hash. Compares against every hash, without early exit. */
export function checkKey(state: KeyState, presented: Buffer, now: number): KeyCheck {
  const isCurrent = sameHash(state.keyHash, presented);
  let supersededAt = -1;
  for (let i = 0; i < state.superseded.length; i++) {
    if (sameHash(state.superseded[i], presented) && supersededAt < 0) supersededAt = i;
  }
  if (isCurrent) return 'current';
  if (supersededAt === 0 && now < state.graceUntil && state.graceSalt) return 'grace';
  if (supersededAt >= 0) return 'replayed';
  return 'unknown';
}

/** The key state after the current key is replaced by `next`. */
export function rotated(state: KeyState, next: { keyHash: Buffer; salt: Buffer }, graceUntil: number): KeyState {
  return {
    keyHash: next.keyHash,
    superseded: [state.keyHash, ...state.superseded].slice(0, REMEMBERED_KEYS),
    graceUntil,
    graceSalt: graceUntil > 0 ? next.salt : null,
  };
}
