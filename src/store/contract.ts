import type { SessionInfo, SessionUser } from '../core/session.js';
import type { StoredUser, ThrottleRule, UserChange } from '../core/users.js';
import type { EventLog, EventLogOptions } from './events.js';
import type { RequestQueue } from './queue.js';

/**
 * The storage contract, in named slices; `SessionStore` is all of them. Every
 * method is ONE atomic step in the engine: one SQLite transaction, one pass
 * over the memory maps, and (for Redis) one Lua script over keys that share
 * the `{sessionId}` hash tag. The service never reads a whole session,
 * changes it and writes it back.
 *
 * Engines decide expiry by their own clock: a session or record past its
 * expiry reads as absent even before a sweep removes it.
 *
 * The memory and SQLite engines implement each slice in a file named after
 * it (src/store/memory/holds.ts, src/store/sqlite/holds.ts, ...); each slice's
 * sweep (UpkeepSteps) is implemented beside the slice's other steps.
 */
export interface SessionStore extends SessionSteps, RecordSteps, HoldSteps, UserSteps, TransactionSteps, CursorSteps, UpkeepSteps {
  /** `memory`, `sqlite`, `redis`, ... */
  readonly kind: string;
}

/** Sessions: their creation, keys, privilege, end and move. */
export interface SessionSteps {
  createSession(session: SessionInfo, keyHash: Buffer): Promise<void>;

  /** The live session with this id, or null. No side effects. */
  getSession(id: string): Promise<SessionInfo | null>;

  /**
   * Checks a presented key and, in the same step, rotates it and records the
   * access (lastAccessAt, nextTimeout); a superseded key revokes the session.
   * The decision is `decideAuthentication` (core/authenticate.ts), the same
   * on every engine. See `Authentication` for outcomes. A session owned by
   * another client (when `client` is not null) is treated exactly like an
   * unknown one, with no side effect.
   */
  authenticate(request: AuthRequest): Promise<Authentication>;

  /**
   * Records an access to a live session without a key, which stays as it is
   * (a trusted portal's keep-alive, docs/protocol.md#xml-soap-and-the-portal-routes): lastAccessAt and nextTimeout
   * move as an authentication would move them. Null when it is not live.
   */
  touchSession(id: string): Promise<SessionInfo | null>;

  /**
   * Replaces the key with no grace for the old one and sets the user (login,
   * logout, role change), dropping a role change still pending for the
   * session. Null when the session is gone.
   */
  changePrivilege(id: string, next: KeyRotation, user: SessionUser | null): Promise<SessionInfo | null>;

  /**
   * Ends a session and removes everything it owns, releasing its live holds
   * in the same step (its claims stay: a sale is permanent). The ended
   * session, or null.
   */
  endSession(id: string): Promise<EndedSession | null>;

  /**
   * Moves a live session to a new id and key (no superseded keys): same client,
   * user, settings, records, holds and claims; the old id is gone. Null when
   * the session is not live.
   */
  transferSession(oldId: string, newId: string, keyHash: Buffer): Promise<SessionInfo | null>;
}

/**
 * Records. While a transaction is open (TransactionSteps), putRecord and
 * deleteRecord write into the innermost scope, and getRecord and listRecords
 * see the records with the scopes overlaid (rules in core/transactions.ts).
 */
export interface RecordSteps {
  /** Writes a record (or one entry of a multiple record) if the version rule holds; into the innermost scope when one is open. */
  putRecord(sessionId: string, write: RecordWrite): Promise<StoredRecord>;

  /** The live entries of one record (one entry with key null for a single record), as the session sees them (its scopes overlaid). */
  getRecord(sessionId: string, name: string): Promise<StoredRecord[]>;

  /** Every live record and entry of the session. */
  listRecords(sessionId: string): Promise<StoredRecord[]>;

  /** Deletes a record, or one entry; false when it was absent. */
  deleteRecord(sessionId: string, name: string, key: string | null, ifVersion: number | null): Promise<boolean>;

  /** Restarts the expiry clock of every live record with a ttl. */
  touchRecords(sessionId: string): Promise<void>;
}

/**
 * Holds (docs/protocol.md#holds-and-the-sale) and the sale. Expiry is the store's clock. A hold past
 * its expiry blocks nobody and counts for no pool, swept or not. Names are one
 * namespace: a name is a pool when it has a capacity (setPool), else an
 * exclusive resource.
 */
export interface HoldSteps {
  /**
   * Takes an exclusive hold on every name, or none: HOLD_CONFLICT (details.conflicts)
   * when another session holds one live or one is claimed. A live hold of this
   * session is extended (never shortened) and keeps its token; a new one gets
   * the next token of its name. `sessionExpiry`: the session's next timeout as
   * its authentication just answered it; an engine whose holds live apart from
   * their session (Redis) records it with them as a hint, never a decision.
   */
  holdResources(sessionId: string, names: string[], ttlMs: number, sessionExpiry?: number): Promise<AcquiredHold[]>;

  /** Adds `quantity` to this session's hold on a pool and extends it, or POOL_EXHAUSTED (`sessionExpiry`: as above). */
  holdPool(sessionId: string, pool: string, quantity: number, ttlMs: number, sessionExpiry?: number): Promise<AcquiredHold>;

  /**
   * Reads AND DROPS: the session's live holds and claims, plus the holds that
   * expired since the last call, which this same step deletes (so each expired
   * hold is reported once, and a second call no longer lists it).
   */
  readHolds(sessionId: string): Promise<SessionHolds>;

  /** Extends every live hold of the session to at least now + ttl. The live holds. */
  renewHolds(sessionId: string, ttlMs: number): Promise<StoredHold[]>;

  /**
   * Drops the named holds of the session (all when null), expired ones too.
   * Pool units return at once. The holds that were live. Logout calls it with null.
   */
  releaseHolds(sessionId: string, names: string[] | null): Promise<StoredHold[]>;

  /**
   * The sale: checks, in this one step, that each named hold (all when null) is
   * the session's, live by the store's clock and still carries the last token
   * of its name, then turns them all into claims; else HOLDS_EXPIRED
   * (details.expired) and nothing changes.
   */
  confirmHolds(sessionId: string, names: string[] | null): Promise<StoredClaim[]>;

  /** Sets a pool's capacity (HOLD_CONFLICT when the name is held or claimed as a resource). */
  setPool(name: string, capacity: number): Promise<PoolInfo>;

  /** Frees every claim on a name (admin). How many were freed. */
  freeClaims(name: string): Promise<number>;

  /** Live holds whose names start with `prefix`, by name, at most `limit`. */
  listHolds(prefix: string, limit: number): Promise<StoredHold[]>;

  /** Every pool (a name with a capacity) and its use by the store's clock, by name, at most `limit`. */
  listPools(limit: number): Promise<PoolUse[]>;

  /** One pool and its use, or null when the name has no capacity. */
  getPool(name: string): Promise<PoolUse | null>;

  /** Claims (sales) whose names start with `prefix`, by name then session, at most `limit`. */
  listClaims(prefix: string, limit: number): Promise<StoredClaim[]>;
}

/**
 * Users, the index of sessions by user, and login throttling. The index is
 * kept exact: a session leaves it when it ends, expires (reads filter by the
 * store's clock before any sweep), is revoked, or changes user.
 */
export interface UserSteps {
  getUser(name: string): Promise<StoredUser | null>;

  /** Every user, by name. */
  listUsers(): Promise<StoredUser[]>;

  /**
   * Creates or changes a user in one step. A new password ends the user's
   * sessions; new roles (without a new password) are set on each of the
   * user's sessions at once and marked, so that their next `authenticate`
   * rotates the key with no grace (`privilegeChanged`). `user` is null when the user does not exist and no
   * password hash was given (nothing changed).
   */
  putUser(name: string, change: UserChange): Promise<UserPut>;

  /** Removes a user and ends its sessions, in one step. */
  deleteUser(name: string): Promise<{ deleted: boolean; ended: SessionInfo[] }>;

  /**
   * Logs a session in as a user, if the user's password hash is still
   * `passwordHash` (the one just verified): a new key with no grace, the
   * user's current roles. One step, so a concurrent password or role change
   * cannot be missed.
   */
  loginUser(id: string, next: KeyRotation, name: string, passwordHash: string): Promise<LoginOutcome>;

  /**
   * Live sessions ordered by id, after `after` (exclusive), at most `limit`:
   * of one user through the index, or of everyone when `user` is null.
   */
  listSessions(user: string | null, after: string | null, limit: number): Promise<SessionInfo[]>;

  /** Ends every session of a user, in one step. */
  endUserSessions(user: string): Promise<SessionInfo[]>;

  /**
   * Starts a login attempt for every counter in `keys` (per username, per
   * session): when one is throttled, answers how long (ms) and logs nothing;
   * otherwise logs the attempt (as a failure until settled) in all of them.
   */
  takeLoginAttempt(keys: string[], rule: ThrottleRule): Promise<{ waitMs: number; at: number }>;

  /** The attempt logged at `at` succeeded: it no longer counts as a failure. */
  settleLoginAttempt(keys: string[], at: number): Promise<void>;
}

/**
 * Transactions (docs/protocol.md#transactions-and-nested-scopes). A session's transaction scopes live in the store
 * (so a restarted or another node finds them): a stack of depths whose
 * buffered record writes only this session sees (RecordSteps read and write
 * through them). Every scope of a session shares one deadline, moved by each
 * request; past it they are rolled back (by the next request or the sweep)
 * and the abort is reported once.
 */
export interface TransactionSteps {
  /**
   * At the start of each request of the session: rolls every scope back if
   * their deadline passed (releasing the holds they took), moves the deadline
   * to now + timeoutMs, and takes the abort report (true once per abort).
   */
  enterTransactions(sessionId: string, timeoutMs: number): Promise<TransactionState>;

  /** Opens a scope inside the open ones (LIMIT_EXCEEDED past maxDepth). The new depth. */
  openTransaction(sessionId: string, timeoutMs: number, maxDepth: number): Promise<number>;

  /**
   * Closes the innermost scope: merges it into its parent, or at depth 1
   * writes every buffered write to the records, in this one step.
   * TRANSACTION_NOT_OPEN when none is open. The depth left.
   */
  commitTransaction(sessionId: string, timeoutMs: number): Promise<number>;

  /** Discards the innermost scope (every scope when `all`), releasing the holds taken in it. TRANSACTION_NOT_OPEN when none is open. */
  rollbackTransaction(sessionId: string, all: boolean, timeoutMs: number): Promise<TransactionRollback>;

  /** Notes in the innermost open scope (if any) what a hold step just gave: `added` is the units asked of a pool, null for resources. */
  noteTransactionHolds(sessionId: string, held: AcquiredHold[], added: number | null): Promise<void>;

  /** Rolls back every scope and closes every cursor of a live session (before a transfer). The holds released. */
  endTransactions(sessionId: string): Promise<StoredHold[]>;
}

/** Cursors (docs/protocol.md#cursors): a page-by-page read over a snapshot of one record's entries. */
export interface CursorSteps {
  /** Stores a cursor over a snapshot of entries (LIMIT_EXCEEDED past maxCursors per session). */
  openCursor(sessionId: string, cursor: NewCursor, maxCursors: number): Promise<void>;

  /** The next `count` items (null: its page size) of a live cursor of this session, moving its position and deadline; null when unknown or expired. */
  readCursor(sessionId: string, cursorId: string, count: number | null): Promise<CursorPage | null>;

  /** Closes a cursor of this session; false when unknown or expired. */
  closeCursor(sessionId: string, cursorId: string): Promise<boolean>;
}

/**
 * Upkeep: the sweeps (each bounded by `limit`, at a cost that grows with what
 * expired, not with what is stored; the service runs them in batches with
 * `sweepInBatches`, store/sweep.ts), the health check, the shared request
 * queue and closing. Each sweep is implemented beside its slice's steps.
 */
export interface UpkeepSteps {
  /**
   * Removes the sessions that expired by the store's clock, at most `limit`.
   * Returns the sessions removed, each once; their live holds are released in
   * the same step. An engine may drop other expired leftovers here too
   * (records past their ttl, old login logs), never anything live.
   */
  sweepExpired(limit: number): Promise<EndedSession[]>;

  /** Holds that expired and were not reported by a sweep yet (each once), at most `limit`. */
  sweepExpiredHolds(limit: number): Promise<StoredHold[]>;

  /** Rolls back the scopes whose deadline passed, at most `limit` sessions, through an index by deadline; each abort is reported to its session's next request. */
  sweepExpiredTransactions(limit: number): Promise<TransactionRollback[]>;

  /** Removes cursors unused past their deadline, at most `limit`. How many. */
  sweepExpiredCursors(limit: number): Promise<number>;

  /**
   * Cheap counts for the metrics: sessions stored (an expired one until the
   * sweep removes it) and holds stored (an expired one until reported).
   */
  countLive(): Promise<{ sessions: number; holds: number }>;

  /** Figures of the engine for the metrics (read with no store step): Redis reconnects, SQLite WAL bytes. */
  stats?(): EngineStats;

  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;

  /**
   * A per-session line of requests that spans every node sharing this store
   * (docs/protocol.md#serialized-requests). Absent: the service's in-process SessionQueue is enough.
   */
  createQueue?(timeoutMs: number): RequestQueue;

  /**
   * The event log that spans every node sharing this store (the admin's
   * event stream). Absent: the service keeps an in-process one (events.ts).
   */
  createEventLog?(options: EventLogOptions): EventLog;

  close(): Promise<void>;
}

export interface TransactionState {
  /** Scopes open now. */
  depth: number;
  /** The scopes were rolled back for idling (reported once). */
  aborted: boolean;
  /** Holds released by that rollback, when this step did it. */
  released: StoredHold[];
}

export interface TransactionRollback {
  sessionId: string;
  /** Scopes left open. */
  depth: number;
  released: StoredHold[];
}

export interface NewCursor {
  id: string;
  /** The record name. */
  name: string;
  pageSize: number;
  /** The snapshot, in key order. */
  items: StoredRecord[];
  /** It dies this long after its last use. */
  timeoutMs: number;
}

export interface CursorPage {
  items: StoredRecord[];
  /** Items delivered so far, this page included. */
  position: number;
  total: number;
}

export interface SessionHolds {
  live: StoredHold[];
  /**
   * Expired since the last read; dropped by that read. `announced`: a sweep
   * already reported it (so the hold.expired event is not sent twice).
   */
  expired: (StoredHold & { announced: boolean })[];
  claims: StoredClaim[];
}

/** A pool's capacity and use: units held live, claimed, and free (neither). */
export interface PoolUse {
  name: string;
  capacity: number;
  held: number;
  claimed: number;
  free: number;
}

export interface EngineStats {
  redisReconnects?: number;
  sqliteWalBytes?: number;
}

export interface PoolInfo {
  name: string;
  capacity: number;
  /** Units neither held live nor claimed. */
  available: number;
}

/** A session as it ended, with the live holds released in the same step. */
export interface EndedSession extends SessionInfo {
  releasedHolds: StoredHold[];
}

export interface UserPut {
  user: StoredUser | null;
  created: boolean;
  /** Sessions ended by a new password. */
  ended: SessionInfo[];
}

export type LoginOutcome =
  | { outcome: 'ok'; session: SessionInfo }
  /** The session ended meanwhile. */
  | { outcome: 'session_gone' }
  /** The user was removed or its password changed since it was verified. */
  | { outcome: 'user_changed' };

export interface KeyRotation {
  keyHash: Buffer;
  salt: Buffer;
}

export interface AuthRequest {
  id: string;
  keyHash: Buffer;
  /** The owning client required, or null when any client may (admin). */
  client: string | null;
  /** The next key, taken when the presented key is current and the session rotates per request. */
  rotation: KeyRotation | null;
  /** How long the replaced key stays servable (ms). */
  graceMs: number;
  /**
   * A record write to make in this same step (a PUT of a record: one round
   * trip instead of two). It is made only when the key is accepted (current
   * or grace), the session has no scope state (`scopes` false) and the write
   * passes the rules exactly as putRecord would check them; the outcome then
   * carries it as `written`. Otherwise nothing of it is written, and the
   * caller makes it with putRecord (which throws the refusal). An engine may
   * leave every write to the caller.
   */
  write?: RecordWrite;
}

/**
 * `scopes` (accepted outcomes): the session has scopes open or a rolled-back
 * transaction to report, so the request must enter them (enterTransactions); when
 * false it can skip that step, since only the session's own requests open one.
 */
export type Authentication =
  /**
   * The current key: rotated when asked, access recorded. `privilegeChanged`:
   * a pending role change was applied and the key rotated with no grace, in
   * whichever rotation mode (only when a rotation was given).
   */
  | { outcome: 'current'; session: SessionInfo; privilegeChanged?: boolean; scopes: boolean; written?: StoredRecord }
  /** The key just replaced, within the grace window: access recorded, nothing rotated. */
  | { outcome: 'grace'; session: SessionInfo; graceSalt: Buffer; scopes: boolean; written?: StoredRecord }
  /** A superseded key: the session was revoked (ended) in this same step. */
  | { outcome: 'replayed'; session: SessionInfo }
  /** Unknown session, unknown key, expired, or another client's. */
  | { outcome: 'invalid' };

import type { RecordKind, RecordWrite, StoredRecord } from '../core/records.js';
import type { AcquiredHold, StoredClaim, StoredHold } from '../core/holds.js';
export type { RecordKind, RecordWrite, StoredRecord, AcquiredHold, StoredClaim, StoredHold };
