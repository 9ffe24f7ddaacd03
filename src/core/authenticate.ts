import { checkKey, graceFor, nextTimeoutOf, presentedCurrent, rotated, type KeyCheck, type KeyState, type SessionInfo, type SessionUser } from './session.js';

/**
 * The authenticate decision, written once: every engine's `authenticate`
 * step reads the session, calls `decideAuthentication` and stores what it
 * answers, in one atomic step (the Redis engine's Lua copy is held to the
 * same table of cases, test/store/authenticate-cases.ts).
 *
 * 1. Classify the presented key (checkKey): the current key; the key just
 *    replaced, within its grace window; a superseded key (a replay: the
 *    session is revoked); or unknown. An absent or expired session, or one
 *    owned by another client (when `client` is given), is unknown too.
 * 2. Rotate: the current key of a session that rotates per request gets the
 *    next key; the replaced one is servable for as long as the new one has
 *    not been presented, then for `graceMs` (none when graceMs is 0). The
 *    current key presented without rotating marks it presented (the key
 *    before it is then servable for the window alone). The replay rule:
 *    core/session.ts checkKey.
 * 3. A role change pending for the session (an admin changed its user's
 *    roles) is applied when a rotation is offered, in either rotation mode and
 *    whether the key was current or in grace: the session's user takes the
 *    new roles and the key rotates ONCE with no grace for the old one (a role
 *    change answers a new key; the key presented can no longer be served).
 *    A pending change recorded for another user name is stale: dropped.
 * 4. Record the access: lastAccessAt = now, nextTimeout moved.
 */
export interface AuthInput {
  /** The session and its keys as stored, or null when there is none. */
  stored: { session: SessionInfo; keys: KeyState } | null;
  /** The hash of the presented key. */
  presented: Buffer;
  /** The owning client required, or null when any client may (admin). */
  client: string | null;
  /** The next key on offer (taken when the session rotates now), or null. */
  rotation: { keyHash: Buffer; salt: Buffer } | null;
  /** How long a replaced key stays servable (ms). */
  graceMs: number;
  now: number;
  /** The role change pending for this session, or null (read only when a rotation is offered and the session has a user). */
  pending: PendingRoles | null;
}

/** A role change waiting for the session's next request: the user name it was made for, and the new roles. */
export interface PendingRoles {
  name: string;
  roles: string[];
}

export type AuthDecision =
  /** Unknown session or key, expired, or another client's: nothing changes. */
  | { outcome: 'invalid' }
  /** A superseded key: the engine ends the session in this same step. */
  | { outcome: 'replayed'; session: SessionInfo }
  | AcceptedAuth;

export interface AcceptedAuth {
  /** 'grace' only when nothing rotated (a role change answers 'current'). */
  outcome: 'current' | 'grace';
  /** The session after this request: access recorded, user changed when `privilegeChanged`. A new object. */
  session: SessionInfo;
  /** The key state to store, or null when the keys stay as they were. */
  keys: KeyState | null;
  /** A pending role change was applied: store `session.user`; the key rotated with no grace. */
  privilegeChanged: boolean;
  /** The pending role change is used up (applied or stale): the engine deletes it. */
  dropPending: boolean;
  /** For 'grace': the salt that derived the current key from the presented one. */
  graceSalt: Buffer | null;
}

/** Whether an engine must read the pending role change before deciding (it is used only then). */
export function readsPending(session: Pick<SessionInfo, 'user'>, rotation: AuthInput['rotation']): boolean {
  return session.user !== null && rotation !== null;
}

export function decideAuthentication(input: AuthInput): AuthDecision {
  const { stored, now, rotation } = input;
  if (!stored || stored.session.nextTimeout <= now) return { outcome: 'invalid' };
  if (input.client !== null && stored.session.client !== input.client) return { outcome: 'invalid' };
  const check: KeyCheck = checkKey(stored.keys, input.presented, now);
  if (check === 'unknown') return { outcome: 'invalid' };
  if (check === 'replayed') return { outcome: 'replayed', session: { ...stored.session } };

  const session: SessionInfo = { ...stored.session, lastAccessAt: now, nextTimeout: nextTimeoutOf(stored.session, now) };
  const pending = rotation && session.user && input.pending ? input.pending : null;
  const roles: SessionUser | null = pending && pending.name === session.user!.name ? { name: pending.name, roles: [...pending.roles] } : null;
  if (roles && rotation) {
    session.user = roles;
    return {
      outcome: 'current', session, keys: rotated(stored.keys, rotation, 0),
      privilegeChanged: true, dropPending: true, graceSalt: null,
    };
  }
  const rotates = check === 'current' && rotation !== null && session.rotation === 'per-request';
  return {
    outcome: check,
    session,
    // Rotated: the replaced key is served while the new one is not presented, then for graceMs (graceFor).
    // The current key presented without rotating: the client provably has it (presentedCurrent; null if nothing changes).
    keys: rotates ? rotated(stored.keys, rotation, graceFor(now, input.graceMs)) : check === 'current' ? presentedCurrent(stored.keys) : null,
    privilegeChanged: false,
    dropPending: pending !== null,
    graceSalt: check === 'grace' ? stored.keys.graceSalt : null,
  };
}
