import { iso, systemClock, type Clock } from '../core/clock.js';
import { TesseraError } from '../core/errors.js';
import { bodyObject, checkJsonValue, entryKey, ifMatch, optionalBoolean, optionalEnum, optionalSeconds, recordName } from '../core/input.js';
import { hashKey, isWellFormedId, newSessionId, newSessionKey } from '../core/keys.js';
import { compileRecordTypes, type RecordType } from '../core/record-types.js';
import { valueBytes } from '../core/records.js';
import { nextTimeoutOf, ROTATIONS, type SessionInfo } from '../core/session.js';
import { DEFAULT_MAX_ENTRIES, resolveConfig, type TesseraConfig } from '../core/config.js';
import { Cursors } from './cursors.js';
import { EventFeed } from './events.js';
import { Holds, type TransferredSession } from './holds.js';
import { SessionQueue, type Release, type RequestQueue } from '../store/queue.js';
import { instrumentStore, type StepObserver } from '../store/instrument.js';
import { SessionFile } from './session-file.js';
import type { EngineStats, PoolUse, RecordKind, RecordWrite, SessionStore } from '../store/contract.js';
import { Transactions } from './transactions.js';
import { Shared, type SessionFacts } from './shared.js';
import { Users } from './users.js';
import { group, view, type MultipleRecordView, type RecordView } from './views.js';

export type { EntryView, MultipleRecordView, RecordView } from './views.js';
export type { Release } from '../store/queue.js';
import { afterAccepted, Rekeyed, type Unwrapped, type Client, type CreatedSession, type SessionContext, type SessionView } from './context.js';
export type { Client, CreatedSession, Rekeyed, SessionContext, SessionView, TesseraEvent } from './context.js';
export { acceptedContext } from './context.js';
import { sweepInBatches } from '../store/sweep.js';

export interface TesseraOptions {
  /** The server config (validated here); see docs/configuration.md. */
  config?: unknown;
  store: SessionStore;
  /** The clock for what the service itself decides (the store keeps its own). */
  clock?: Clock;
}

/**
 * The use cases of Tessera over one store. The HTTP server is a thin face over
 * this class; a program can use it in-process the same way.
 */
export class Tessera {
  readonly config: Readonly<TesseraConfig>;
  readonly store: SessionStore;
  readonly events: Shared['events'];
  /** The event stream: every node's events, through the store's event log. */
  readonly feed: EventFeed;
  readonly queue: RequestQueue;
  /** docs/protocol.md#holds-and-the-sale and #transfer: holds, pools, claims, transfer. */
  readonly holds: Holds;
  /** Users, login, roles and per-user administration (service/users.ts). */
  readonly users: Users;
  /** docs/protocol.md#transactions-and-nested-scopes: transactions, a stack of scopes per session. */
  readonly transactions: Transactions;
  /** docs/protocol.md#cursors: cursors over multiple records. */
  readonly cursors: Cursors;
  private readonly clock: Clock;
  private readonly recordTypes: Map<string, RecordType>;
  /** The store, config, clock, events and session facts every use case shares. */
  private readonly shared: Shared;
  private sweeper: NodeJS.Timeout | null = null;
  /** Told of every store step and its time (the metrics set it). */
  stepObserver: StepObserver | null = null;

  constructor(options: TesseraOptions) {
    this.config = resolveConfig(options.config);
    this.store = instrumentStore(options.store, () => this.stepObserver);
    this.clock = options.clock ?? systemClock;
    this.recordTypes = compileRecordTypes(this.config.records);
    this.shared = new Shared(this.store, this.config, this.clock);
    this.events = this.shared.events;
    this.feed = this.shared.feed;
    const queueTimeoutMs = this.config.session.queueTimeout * 1000;
    // An engine shared by several nodes brings a queue that spans them (docs/protocol.md#serialized-requests).
    this.queue = this.store.createQueue?.(queueTimeoutMs) ?? new SessionQueue(queueTimeoutMs);
    this.holds = new Holds(this.store, this.config, (type, session, resource) => this.shared.emit(type, session, { resource }),
      (ctx, held, added) => this.transactions.noteHolds(ctx, held, added));
    this.transactions = new Transactions(this.store, this.config, (session, resource) => this.shared.emit('hold.released', session, { resource }));
    this.cursors = new Cursors(this.store, this.config, (ctx, name) => {
      this.checkRead(ctx, name);
      return this.store.getRecord(ctx.session.id, name);
    });
    this.users = new Users(this.shared, this.holds);
  }

  // ---- lifecycle -------------------------------------------------------------

  async createSession(client: Client, body?: unknown): Promise<CreatedSession> {
    const b = bodyObject(body, ['idleTimeout', 'lifespan', 'rotation', 'queue']);
    const s = this.config.session;
    const idleTimeout = optionalSeconds(b, 'idleTimeout', s.maxIdleTimeout) ?? s.idleTimeout;
    const lifespan = optionalSeconds(b, 'lifespan', s.maxLifespan) ?? s.lifespan;
    const rotation = optionalEnum(b, 'rotation', ROTATIONS) ?? 'per-request';
    const queue = optionalBoolean(b, 'queue') ?? true;
    const now = this.clock();
    const key = newSessionKey();
    const session: SessionInfo = {
      id: newSessionId(), client: client.id, rotation, queue, idleTimeout, lifespan,
      createdAt: now, lastAccessAt: now, nextTimeout: 0, expiresAt: now + lifespan * 1000, user: null,
    };
    session.nextTimeout = nextTimeoutOf(session, now);
    await this.store.createSession(session, hashKey(key));
    this.shared.remember(session);
    this.shared.emit('session.created', session);
    return {
      id: session.id, key, idleTimeout, lifespan, rotation, queue,
      nextTimeout: iso(session.nextTimeout), expiresAt: iso(session.expiresAt),
    };
  }

  /**
   * The start of every request of a session: accepts its credentials (one
   * store step: rotates the key unless `rotate: false`, records the access;
   * see Shared.authenticate), then enters its open transactions (a second
   * step, only when the session has scope state). Throws SESSION_INVALID or
   * SESSION_KEY_REPLAYED; an error after the credentials were accepted
   * (TRANSACTION_ABORTED) carries the context (acceptedContext), since the
   * answer must give the next key. Login and logout enter with `rotate:
   * false`: they change the key themselves, or not at all when they fail.
   */
  async enter(client: Client, id: unknown, key: unknown, options: { rotate?: boolean } = {}): Promise<SessionContext> {
    const { ctx } = await this.shared.authenticate(client, id, key, options.rotate ?? true);
    return this.enterTransactions(ctx);
  }

  /**
   * Accepts a session's credentials only (one store step), without entering
   * its transactions: what `enter` does first. For callers that only check a
   * session; a request of a session goes through `enter`.
   */
  async authenticate(client: Client, id: unknown, key: unknown, options: { rotate?: boolean } = {}): Promise<SessionContext> {
    return (await this.shared.authenticate(client, id, key, options.rotate ?? true)).ctx;
  }

  private async enterTransactions(ctx: SessionContext): Promise<SessionContext> {
    try {
      return await this.transactions.enter(ctx);
    } catch (e) {
      throw afterAccepted(e, ctx);
    }
  }

  /**
   * A PUT of a record as the HTTP face makes it, entering the session in the
   * same call: the authentication and the write in one store step where the
   * engine can (AuthRequest.write: one round trip instead of two), else
   * enter then putRecord. The answers, the errors and their order are those
   * of the two calls; errors after the credentials were accepted carry the
   * context (acceptedContext).
   */
  async enterAndPut(client: Client, id: unknown, key: unknown, put: PutRequest): Promise<Rekeyed<RecordView>> {
    let prepared: PreparedWrite | null = null;
    try {
      prepared = this.prepareWrite(null, put.name, put.key, put.body, put.ifMatch);
    } catch {
      // Refused on its own: putRecord below refuses it again, after the authentication, as it always has.
    }
    const { ctx, written } = await this.shared.authenticate(client, id, key, true, prepared?.write);
    if (written) return new Rekeyed(view(written, prepared!.value), ctx);
    const entered = await this.enterTransactions(ctx);
    try {
      return new Rekeyed(await this.putRecord(entered, put.name, put.key, put.body, put.ifMatch), entered);
    } catch (e) {
      throw afterAccepted(e, entered);
    }
  }

  /** `GET /readyz`: is the store reachable? STORE_UNAVAILABLE when not. */
  async ready(): Promise<{ status: 'ready'; store: string }> {
    try {
      await this.store.ping();
    } catch {
      throw new TesseraError('STORE_UNAVAILABLE');
    }
    return { status: 'ready', store: this.store.kind };
  }

  /** What GET /metrics reports of the store at once: its engine and its driver's figures (Redis reconnects, the SQLite WAL's size). */
  storeFigures(): { engine: string; stats: EngineStats } {
    return { engine: this.store.kind, stats: this.store.stats?.() ?? {} };
  }

  /** What GET /metrics reads from the store when scraped: the sessions and holds in it, and the first `maxPools` pools by name. */
  async liveFigures(maxPools: number): Promise<{ sessions: number; holds: number; pools: PoolUse[] }> {
    const [live, pools] = await Promise.all([this.store.countLive(), this.store.listPools(maxPools)]);
    return { ...live, pools };
  }

  describe(ctx: SessionContext): SessionView {
    const s = ctx.session;
    return {
      id: s.id, user: s.user, createdAt: iso(s.createdAt), lastAccessAt: iso(s.lastAccessAt),
      nextTimeout: iso(s.nextTimeout), expiresAt: iso(s.expiresAt), rotation: s.rotation, transactionDepth: ctx.transactionDepth ?? 0,
    };
  }

  async keepAlive(ctx: SessionContext, body?: unknown): Promise<{ message: 'success'; nextTimeout: string }> {
    const b = bodyObject(body, ['touchRecords']);
    if (optionalBoolean(b, 'touchRecords')) await this.store.touchRecords(ctx.session.id);
    return { message: 'success', nextTimeout: iso(ctx.session.nextTimeout) };
  }

  async end(ctx: SessionContext): Promise<{ message: 'success' }> {
    await this.shared.endSession(ctx.session.id, 'session.ended');
    return { message: 'success' };
  }

  /**
   * The Futurama keep-alive (docs/protocol.md#xml-soap-and-the-portal-routes): a trusted portal client keeps any live
   * session alive by its id alone, in the session's turn like any request of
   * it. The key stays as it is. SESSION_NOT_FOUND when there is no such session.
   */
  async portalKeepAlive(sessionId: unknown): Promise<{ nextTimeout: string }> {
    return this.inPortalTurn(sessionId, async (id) => {
      const touched = await this.store.touchSession(id);
      if (!touched) throw new TesseraError('SESSION_NOT_FOUND');
      return { nextTimeout: iso(touched.nextTimeout) };
    });
  }

  /** The Futurama end (docs/protocol.md#xml-soap-and-the-portal-routes): a trusted portal ends any session by its id, in the session's turn. */
  async portalEnd(sessionId: unknown): Promise<{ message: 'success' }> {
    return this.inPortalTurn(sessionId, async (id) => {
      if (!(await this.shared.endSession(id, 'session.ended'))) throw new TesseraError('SESSION_NOT_FOUND');
      return { message: 'success' };
    });
  }

  private async inPortalTurn<T>(sessionId: unknown, work: (id: string) => Promise<T>): Promise<T> {
    if (!isWellFormedId(sessionId)) throw new TesseraError('SESSION_NOT_FOUND');
    const known = this.shared.facts.get(sessionId) ?? await this.store.getSession(sessionId).then((s) => s && this.shared.remember(s));
    if (!known) throw new TesseraError('SESSION_NOT_FOUND');
    const release = await this.queue.acquire(sessionId, known.queue);
    try {
      return await work(sessionId);
    } finally {
      await release();
    }
  }

  /** A new id and key for this session (docs/protocol.md#transfer); the old id answers SESSION_INVALID from now on. */
  async transfer(ctx: SessionContext): Promise<TransferredSession> {
    await this.transactions.endAll(ctx);
    const { created, session } = await this.holds.transfer(ctx);
    this.shared.facts.delete(ctx.session.id);
    this.shared.remember(session);
    this.shared.emit('session.transferred', ctx.session, { to: session.id });
    return created;
  }

  /** Releases every hold of a session, as logout does (Holds.releaseHolds). */
  async releaseHolds(ctx: SessionContext): Promise<{ released: string[] }> {
    return this.holds.releaseHolds(ctx.session);
  }

  // ---- records ---------------------------------------------------------------

  async putRecord(ctx: SessionContext, name: unknown, key: unknown, body: unknown, ifMatchHeader?: unknown): Promise<RecordView> {
    const { write, value } = this.prepareWrite(ctx, name, key, body, ifMatchHeader)!;
    return view(await this.store.putRecord(ctx.session.id, write), value);
  }

  /**
   * A record write checked against everything but the session's records,
   * or the error. Without a session (`ctx` null), null for a record type
   * with write roles: the check needs the session's roles.
   */
  private prepareWrite(ctx: SessionContext | null, name: unknown, key: unknown, body: unknown, ifMatchHeader?: unknown): PreparedWrite | null {
    const n = recordName(name);
    const k = key === undefined || key === null ? null : entryKey(key);
    const b = bodyObject(body, ['value', 'ttl']);
    if (!('value' in b) || b.value === undefined) throw new TesseraError('INVALID_REQUEST', "The body needs a 'value'.", { field: 'value' });
    checkJsonValue(b.value); // in-process callers too: deep values would overflow the stack below, Infinity would be stored as null
    const ttl = optionalSeconds(b, 'ttl', this.config.session.maxLifespan); // a record never outlives its session
    const version = ifMatch(ifMatchHeader);
    const type = this.recordType(n);
    if (type?.writeRoles && ctx === null) return null;
    if (type?.writeRoles && !hasAnyRole(ctx!, type.writeRoles)) throw new TesseraError('FORBIDDEN');
    const kind: RecordKind = type?.kind ?? 'single'; // an undeclared record is single
    if (kind === 'multiple' && k === null) {
      throw new TesseraError('INVALID_REQUEST', `Record '${n}' is a multiple record: write one entry with PUT /records/${n}/{key}.`, { field: 'key' });
    }
    if (kind === 'single' && k !== null) {
      throw new TesseraError('INVALID_REQUEST', `Record '${n}' is a single record: write it without an entry key.`, { field: 'key' });
    }
    const json = JSON.stringify(b.value);
    if (valueBytes(json) > this.config.session.maxRecordSize) {
      throw new TesseraError('RECORD_TOO_LARGE', undefined, { limit: this.config.session.maxRecordSize });
    }
    if (type?.validate && !type.validate(b.value)) {
      throw new TesseraError('VALIDATION_FAILED', undefined, {
        errors: type.validate.errors!.map((e) => ({ path: e.instancePath, message: e.message })),
      });
    }
    const ttlSeconds = ttl ?? type?.ttl ?? null;
    return {
      write: {
        name: n, key: k, kind, value: json, ttlMs: ttlSeconds === null ? null : ttlSeconds * 1000,
        ifVersion: version, maxEntries: type?.maxEntries ?? DEFAULT_MAX_ENTRIES, maxRecords: this.config.session.maxRecords,
        maxRecordBytes: this.config.session.maxRecordBytes,
      },
      value: b.value,
    };
  }

  async getRecord(ctx: SessionContext, name: unknown, key?: unknown): Promise<RecordView | MultipleRecordView> {
    const n = recordName(name);
    const k = key === undefined || key === null ? null : entryKey(key);
    this.checkRead(ctx, n);
    const entries = await this.store.getRecord(ctx.session.id, n);
    if (entries.length === 0) throw new TesseraError('RECORD_NOT_FOUND');
    if (k !== null) {
      const entry = entries.find((e) => e.key === k);
      if (!entry) throw new TesseraError('RECORD_NOT_FOUND');
      return view(entry);
    }
    return group(entries)[0];
  }

  async listRecords(ctx: SessionContext): Promise<{ records: (RecordView | MultipleRecordView)[] }> {
    const all = await this.store.listRecords(ctx.session.id);
    return { records: group(all.filter((r) => this.canRead(ctx, r.name))) };
  }

  async deleteRecord(ctx: SessionContext, name: unknown, key: unknown, ifMatchHeader?: unknown): Promise<{ deleted: true }> {
    const n = recordName(name);
    const k = key === undefined || key === null ? null : entryKey(key);
    const version = ifMatch(ifMatchHeader);
    const type = this.recordType(n);
    if (type?.writeRoles && !hasAnyRole(ctx, type.writeRoles)) throw new TesseraError('FORBIDDEN');
    if (!(await this.store.deleteRecord(ctx.session.id, n, k, version))) throw new TesseraError('RECORD_NOT_FOUND');
    return { deleted: true };
  }

  private recordType(name: string): RecordType | undefined {
    const type = this.recordTypes.get(name);
    if (!type && this.config.strictRecords) throw new TesseraError('RECORD_UNDECLARED', `Record '${name}' is not declared.`);
    return type;
  }

  private canRead(ctx: SessionContext, name: string): boolean {
    const roles = this.recordTypes.get(name)?.readRoles;
    return !roles || hasAnyRole(ctx, roles);
  }

  private checkRead(ctx: SessionContext, name: string): void {
    this.recordType(name);
    if (!this.canRead(ctx, name)) throw new TesseraError('FORBIDDEN');
  }

  /**
   * CITY Shop's session file over this request's session: `set` buffers (in a
   * scope), `write` persists, `update` persists and refreshes every record's
   * timestamps, `changed` tells whether anything is buffered.
   */
  sessionFile(ctx: SessionContext): SessionFile {
    return new SessionFile(this, ctx);
  }

  // ---- serialized use in-process -------------------------------------------

  /**
   * Takes the session's place in line for a request of `client` (call it as
   * the request arrives). Resolves when it is this request's turn (release
   * when done), or at once with null when the id is malformed or the session
   * unknown or another client's: such a request is not queued and fails
   * authentication, so knowing an id is not enough to hold a session up.
   */
  takeTurn(client: Client, id: unknown): Promise<Release | null> {
    const known = typeof id === 'string' ? this.shared.facts.get(id) : undefined;
    // Known: join the line in this same tick, so arrival order is kept.
    if (known) return this.joinLine(client, id as string, known);
    if (!isWellFormedId(id)) return Promise.resolve(null);
    return this.store.getSession(id).then((s) => (s ? this.joinLine(client, id, this.shared.remember(s)) : null));
  }

  private joinLine(client: Client, id: string, facts: SessionFacts): Promise<Release | null> {
    if (facts.client !== client.id && !client.roles.includes('admin')) return Promise.resolve(null);
    return this.queue.acquire(id, facts.queue);
  }

  /**
   * Runs `work` in the session's turn with its credentials accepted (rotated)
   * and its transactions entered. Answers the key to send next: the one of
   * the Rekeyed answer when `work` returns one (login, logout).
   */
  async withSession<T>(client: Client, credentials: { id: string; key: string }, work: (ctx: SessionContext) => Promise<T>):
    Promise<{ result: Unwrapped<T>; id: string; key: string; nextTimeout: string }> {
    const release = await this.takeTurn(client, credentials.id);
    if (!release) throw new TesseraError('SESSION_INVALID');
    try {
      const entered = await this.enter(client, credentials.id, credentials.key);
      const done = await work(entered);
      // A use case that gave the session a new key (login, logout) answers it: that is the key to send next.
      const [result, ctx] = done instanceof Rekeyed ? [done.answer, done.ctx] : [done, entered];
      return { result, id: ctx.session.id, key: ctx.key, nextTimeout: iso(ctx.session.nextTimeout) };
    } finally {
      await release();
    }
  }

  // ---- background work -------------------------------------------------------

  /** Removes expired sessions every `session.sweepInterval` seconds. */
  startSweeper(onError: (e: unknown) => void = () => {}): void {
    if (this.sweeper) return;
    let running = false;
    this.sweeper = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        await this.sweep();
      } catch (e) {
        onError(e);
      } finally {
        running = false;
      }
    }, this.config.session.sweepInterval * 1000);
    this.sweeper.unref();
  }

  /** One sweep: removes every session that expired by now. Returns how many. */
  async sweep(): Promise<number> {
    await this.holds.sweep();
    await this.transactions.sweep();
    await this.cursors.sweep();
    return sweepInBatches((limit) => this.store.sweepExpired(limit), (expired) => {
      for (const s of expired) this.shared.ended('session.expired', s);
    });
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.feed.close();
    await this.store.close();
  }
}

/** A PUT of a record, as it came (enterAndPut checks it). */
export interface PutRequest {
  name: unknown;
  key: unknown;
  body: unknown;
  ifMatch?: unknown;
}

/** A record write that passed every check but the session's records, and the value as given. */
interface PreparedWrite {
  write: RecordWrite;
  value: unknown;
}

function hasAnyRole(ctx: SessionContext, roles: string[]): boolean {
  const have = ctx.session.user?.roles ?? [];
  return roles.some((r) => have.includes(r));
}
