import { EventEmitter } from 'node:events';
import { iso, type Clock } from '../core/clock.js';
import type { TesseraConfig } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { deriveKey, hashKey, isWellFormedId, isWellFormedKey, newSalt } from '../core/keys.js';
import { RecentMap } from '../core/recent-map.js';
import type { SessionInfo } from '../core/session.js';
import type { EndedSession, RecordWrite, SessionStore, StoredRecord } from '../store/contract.js';
import type { Client, SessionContext, TesseraEvent } from './context.js';
import { EventFeed } from './events.js';

const SESSION_FACTS_CACHE = 100_000;

/** A session's owner and queue flag (fixed at creation), to queue a request without a store read. */
export interface SessionFacts {
  client: string;
  queue: boolean;
}

/**
 * What the use cases share, made once by Tessera: the store, the config, the
 * clock, the event stream, what the service remembers of sessions, and the
 * one authentication step. Tessera uses it, and Users takes it whole; the
 * other use-case classes (Holds, Transactions, Cursors) take the store, the
 * config and the callbacks they need, so nothing imports upward either way.
 */
export class Shared {
  /** Each event this node makes, in-process (the metrics and tests listen here). */
  readonly events = new EventEmitter<{ event: [TesseraEvent] }>();
  /** The event stream: every node's events, through the store's event log. */
  readonly feed: EventFeed;
  /** Sessions' owners and queue flags, by id. */
  readonly facts = new RecentMap<string, SessionFacts>(SESSION_FACTS_CACHE);

  constructor(
    readonly store: SessionStore,
    readonly config: Readonly<TesseraConfig>,
    readonly clock: Clock,
  ) {
    this.feed = new EventFeed(store, config, clock);
  }

  remember(s: Pick<SessionInfo, 'id' | 'client' | 'queue'>): SessionFacts {
    let pair = this.factsOf.get(s.client);
    if (!pair) {
      pair = [Object.freeze({ client: s.client, queue: false }), Object.freeze({ client: s.client, queue: true })];
      this.factsOf.set(s.client, pair);
    }
    const facts = pair[s.queue ? 1 : 0];
    this.facts.set(s.id, facts);
    return facts;
  }

  /**
   * One frozen facts object per client and queue flag, shared by every session
   * that has them (clients are the configured few): the facts cache then holds
   * only ids and references, not 100,000 small objects.
   */
  private readonly factsOf = new Map<string, [SessionFacts, SessionFacts]>();

  /**
   * Accepts a session's credentials, in ONE store step: classifies the key
   * (current, in its grace window, replayed, unknown), rotates it (when
   * `rotate`; per-request sessions, and any session after a role change),
   * records the access and, with `write`, writes that record in the same step
   * where the engine can. Throws SESSION_INVALID, or SESSION_KEY_REPLAYED
   * after the store revoked the session.
   */
  async authenticate(client: Client, id: unknown, key: unknown, rotate: boolean, write?: RecordWrite):
    Promise<{ ctx: SessionContext; written?: StoredRecord }> {
    if (!isWellFormedId(id) || !isWellFormedKey(key)) throw new TesseraError('SESSION_INVALID');
    const salt = newSalt();
    const next = rotate ? deriveKey(key, salt) : key;
    const result = await this.store.authenticate({
      id,
      keyHash: hashKey(key),
      client: client.roles.includes('admin') ? null : client.id,
      rotation: rotate ? { keyHash: hashKey(next), salt } : null,
      graceMs: this.config.session.graceWindow * 1000,
      write,
    });
    switch (result.outcome) {
      case 'invalid':
        throw new TesseraError('SESSION_INVALID');
      case 'replayed':
        this.facts.delete(id);
        this.emit('security.key_replayed', result.session);
        throw new TesseraError('SESSION_KEY_REPLAYED');
      case 'grace':
        return {
          ctx: { session: result.session, key: deriveKey(key, result.graceSalt), client, ...noScopes(result.scopes) },
          written: result.written,
        };
      case 'current':
        // A role change made by an admin rotates in either mode (privilegeChanged).
        return {
          ctx: {
            session: result.session, key: result.privilegeChanged || result.session.rotation === 'per-request' ? next : key, client,
            ...noScopes(result.scopes),
          },
          written: result.written,
        };
    }
  }

  /** Ends one session (one store step) and tells; false when it was gone. */
  async endSession(id: string, type: 'session.ended' | 'session.expired'): Promise<boolean> {
    const ended = await this.store.endSession(id);
    this.facts.delete(id);
    if (ended) this.ended(type, ended);
    return ended !== null;
  }

  /** A session the store ended or expired: forgotten, then its event and one `hold.released` per hold it released. */
  ended(type: 'session.ended' | 'session.expired', s: EndedSession): void {
    this.facts.delete(s.id);
    this.emit(type, s);
    for (const h of s.releasedHolds) this.emit('hold.released', s, { resource: h.name });
  }

  /** `extra.user`: the session's by default; null for none. */
  emit(type: TesseraEvent['type'], s: { id: string; user?: SessionInfo['user'] },
    extra?: { resource?: string; to?: string; user?: string | null }): void {
    const event: TesseraEvent = { type, at: iso(this.clock()), sessionId: s.id };
    const user = extra && 'user' in extra ? extra.user : s.user?.name;
    if (typeof user === 'string') event.user = user;
    if (extra?.resource !== undefined) event.resource = extra.resource;
    if (extra?.to !== undefined) event.to = extra.to;
    this.feed.publish(event);
    this.events.emit('event', event);
  }
}

/** A session with no scope state is at depth 0 without asking the store again. */
function noScopes(scopes: boolean): { transactionDepth?: number } {
  return scopes ? {} : { transactionDepth: 0 };
}
