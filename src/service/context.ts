import type { ClientRole } from '../core/config.js';
import type { Rotation, SessionInfo } from '../core/session.js';

/** The shapes the service's use cases share with their callers (the HTTP face, the CLI, a library user). */

/** Who is calling: an API client from the config (or the implicit one of open mode). */
export interface Client {
  id: string;
  roles: readonly ClientRole[];
}

/** A request's view of its session after its credentials were accepted. */
export interface SessionContext {
  session: SessionInfo;
  /** The key the caller must send next. */
  key: string;
  client: Client;
  /** Open transactions (scopes), learnt as the request entered (Transactions.enter). */
  transactionDepth?: number;
}

export interface CreatedSession {
  id: string;
  key: string;
  idleTimeout: number;
  lifespan: number;
  rotation: Rotation;
  queue: boolean;
  nextTimeout: string;
  expiresAt: string;
}

export interface SessionView {
  id: string;
  user: { name: string; roles: string[] } | null;
  createdAt: string;
  lastAccessAt: string;
  nextTimeout: string;
  expiresAt: string;
  rotation: Rotation;
  transactionDepth: number;
}

/** Every event type of the event stream (docs/protocol.md). */
export const EVENT_TYPES = [
  'session.created', 'session.ended', 'session.expired', 'session.transferred',
  'user.login', 'user.logout', 'user.login_failed',
  'hold.acquired', 'hold.released', 'hold.expired', 'hold.confirmed',
  'security.key_replayed',
] as const;

export type TesseraEvent = {
  type: (typeof EVENT_TYPES)[number];
  at: string;
  sessionId: string;
  user?: string;
  /** hold.*: the resource or pool. */
  resource?: string;
  /** session.transferred: the new session id. */
  to?: string;
};

export type HoldEventType = Extract<TesseraEvent['type'], `hold.${string}`>;

/**
 * The answer of a use case after which the session has a new key (login,
 * logout): continue with `ctx`. `Tessera.withSession` answers its key when
 * `work` returns one.
 */
export class Rekeyed<T> {
  constructor(readonly answer: T, readonly ctx: SessionContext) {}
}

/** What a Rekeyed answer holds; any other answer as it is. */
export type Unwrapped<T> = T extends Rekeyed<infer U> ? U : T;

const ACCEPTED = Symbol('tessera.acceptedContext');

/**
 * Marks an error raised after the session's credentials were accepted (and
 * its key perhaps rotated): the answer must still carry the next key, so the
 * error carries the context. Returns the error.
 */
export function afterAccepted<E>(err: E, ctx: SessionContext): E {
  if (err !== null && typeof err === 'object' && !(ACCEPTED in err)) Object.defineProperty(err, ACCEPTED, { value: ctx });
  return err;
}

/** The context an error was raised in after the credentials were accepted, if any. */
export function acceptedContext(err: unknown): SessionContext | undefined {
  return err !== null && typeof err === 'object' ? (err as { [ACCEPTED]?: SessionContext })[ACCEPTED] : undefined;
}
