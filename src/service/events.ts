import { iso, type Clock } from '../core/clock.js';
import type { TesseraConfig } from '../core/config.js';
import { invalid } from '../core/errors.js';
import { compareEventIds, InProcessEventLog, type EventLog, type LoggedEvent } from '../store/events.js';
import type { SessionStore } from '../store/contract.js';
import { EVENT_TYPES, type TesseraEvent } from './context.js';

/**
 * What a subscriber is handed: an event with its id, or a gap: events it
 * should have had and will not get (`backlog`: its Last-Event-ID is older
 * than what is kept; `slow`: it read too slowly and `dropped` were dropped).
 */
export type FeedItem =
  | { kind: 'event'; id: string; type: string; data: string }
  | { kind: 'gap'; data: string };

export interface Subscription {
  /** Event types wanted; null: all. */
  types: ReadonlySet<string> | null;
  /** The Last-Event-ID a client resumes from; null for a fresh start (live events only). */
  lastEventId: string | null;
}

/**
 * The event stream (docs/operations.md) over the store's event log (one that spans
 * the nodes on Redis, an in-process one on memory and SQLite). The service
 * publishes each event once, from the node whose step made it; every
 * subscriber on every node reads it from the log.
 */
export class EventFeed {
  readonly log: EventLog;
  /** Events dropped because a subscriber read too slowly. */
  dropped = 0;
  /** Events that could not be appended (the store was unreachable). */
  lost = 0;
  /** Subscribers now. */
  subscribers = 0;

  constructor(store: SessionStore, config: Readonly<TesseraConfig>, private readonly clock: Clock) {
    const options = { backlog: config.events.backlog, backlogAgeMs: config.events.backlogAge * 1000, onError: () => { this.lost++; } };
    this.log = store.createEventLog?.(options) ?? new InProcessEventLog(options);
  }

  publish(event: TesseraEvent): void {
    this.log.append(event.type, JSON.stringify(event));
  }

  /** `?types=a,b`: null for all; INVALID_REQUEST for a type there is not. */
  parseTypes(query: unknown): ReadonlySet<string> | null {
    if (query === undefined || query === '') return null;
    if (typeof query !== 'string') throw invalid("'types' is a comma-separated list of event types.", 'types');
    const types = new Set(query.split(',').map((t) => t.trim()).filter((t) => t !== ''));
    for (const t of types) if (!(EVENT_TYPES as readonly string[]).includes(t)) throw invalid(`Unknown event type '${t}'.`, 'types');
    return types;
  }

  /**
   * Hands `deliver` the events missed since `lastEventId` (a gap first when
   * some are no longer kept), then every new event, in id order, each once.
   * Returns the unsubscribe.
   */
  async subscribe(sub: Subscription, deliver: (item: FeedItem) => void): Promise<() => void> {
    let last: string | null = null;
    let live = false;
    const pending: LoggedEvent[] = [];
    const send = (e: LoggedEvent) => {
      if (last !== null && compareEventIds(e.id, last) <= 0) return;
      last = e.id;
      if (sub.types === null || sub.types.has(e.type)) deliver({ kind: 'event', id: e.id, type: e.type, data: e.data });
    };
    const unlisten = await this.log.listen((e) => (live ? send(e) : pending.push(e)));
    try {
      if (sub.lastEventId !== null) {
        const missed = await this.log.since(sub.lastEventId);
        if (missed.gap) deliver(this.gap('backlog'));
        else last = sub.lastEventId;
        missed.events.forEach(send);
      }
    } catch (e) {
      unlisten();
      throw e;
    }
    pending.forEach(send);
    live = true;
    this.subscribers++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers--;
      unlisten();
    };
  }

  /** A gap item: `slow` with how many were dropped, or `backlog`. */
  gap(reason: 'backlog' | 'slow', dropped?: number): FeedItem {
    return { kind: 'gap', data: JSON.stringify({ type: 'gap', at: iso(this.clock()), reason, ...(dropped ? { dropped } : {}) }) };
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
