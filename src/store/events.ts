/**
 * The event log behind `GET /v1/admin/events` (docs/operations.md): every node
 * appends the events of the steps it made; every node reads every node's
 * events, in one order, each under an id `MS-SEQ` (a Redis Stream id, or the
 * same shape in-process). A bounded backlog lets a client that reconnects
 * with `Last-Event-ID` get what it missed, or learn that some of it is no
 * longer kept (`gap`).
 */
export interface LoggedEvent {
  /** `MS-SEQ`, growing: ids compare with compareEventIds. */
  id: string;
  type: string;
  /** The event as JSON. */
  data: string;
}

export interface EventLogOptions {
  /** Events kept for a resume. */
  backlog: number;
  /** Milliseconds an event is kept for a resume at most. */
  backlogAgeMs: number;
  /** Told of each append that failed (the store was unreachable): the event is lost. */
  onError?: (e: unknown) => void;
}

export interface EventLog {
  /** Appends an event for every node (fire and forget: a failure goes to onError). */
  append(type: string, data: string): void;
  /** Delivers every event appended from now on, by any node, in id order. Returns the unsubscribe. */
  listen(listener: (e: LoggedEvent) => void): Promise<() => void>;
  /**
   * The kept events after `id`, in order. `gap`: some event after `id` is no
   * longer kept (or `id` is not an id of this log), so the answer starts
   * with the oldest kept.
   */
  since(id: string): Promise<{ events: LoggedEvent[]; gap: boolean }>;
  close(): Promise<void>;
}

const ID = /^(\d{1,16})-(\d{1,16})$/;

/** Whether `id` has the shape of an event id. */
export function isEventId(id: string): boolean {
  return ID.test(id);
}

/** Orders two event ids (`MS-SEQ`) as numbers: negative, zero or positive. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/**
 * The event log of one process (memory and SQLite, which one process
 * serves): a ring of the last `backlog` events not older than
 * `backlogAgeMs`. Ids start after the process's start time, so an id from
 * before a restart reads as a gap.
 */
export class InProcessEventLog implements EventLog {
  private readonly kept: LoggedEvent[] = [];
  private readonly keptAt: number[] = [];
  private head = 0;
  private readonly listeners = new Set<(e: LoggedEvent) => void>();
  /** Every event at or before this id is no longer kept (or never was: before the start). */
  private floor: string;
  private lastMs: number;
  private seq = 0;

  constructor(private readonly options: EventLogOptions, private readonly clock: () => number = Date.now) {
    this.lastMs = clock();
    this.floor = `${this.lastMs}-0`;
  }

  append(type: string, data: string): void {
    const now = this.clock();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq++;
    }
    const e = { id: `${this.lastMs}-${this.seq}`, type, data };
    this.kept.push(e);
    this.keptAt.push(now);
    this.trim(now);
    for (const l of this.listeners) l(e);
  }

  async listen(listener: (e: LoggedEvent) => void): Promise<() => void> {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async since(id: string): Promise<{ events: LoggedEvent[]; gap: boolean }> {
    this.trim(this.clock());
    const gap = !isEventId(id) || compareEventIds(id, this.floor) < 0;
    const events: LoggedEvent[] = [];
    for (let i = this.head; i < this.kept.length; i++) if (gap || compareEventIds(this.kept[i].id, id) > 0) events.push(this.kept[i]);
    return { events, gap };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private trim(now: number): void {
    const oldest = now - this.options.backlogAgeMs;
    while (this.head < this.kept.length && (this.kept.length - this.head > this.options.backlog || this.keptAt[this.head] < oldest)) {
      this.floor = this.kept[this.head].id;
      this.head++;
    }
    // Compact now and then: the array holds at most twice the backlog.
    if (this.head > this.options.backlog) {
      this.kept.splice(0, this.head);
      this.keptAt.splice(0, this.head);
      this.head = 0;
    }
  }
}
