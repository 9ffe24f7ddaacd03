import type { Cluster, Redis } from 'ioredis';
import { compareEventIds, isEventId, type EventLog, type EventLogOptions, type LoggedEvent } from '../events.js';
import type { RedisConnection } from './client.js';

const READ_COUNT = 1_000;
const TRIM_EVERY_MS = 60_000;

/**
 * The event log on Redis: one Stream, `PREFIX:{events}:log` (one key, so on
 * a Cluster it lives on one master and every node reads the same order).
 * A node appends with `XADD ... MAXLEN ~ backlog` after the step that made
 * the event (the node whose step removed an expired session or hold is the
 * only one that appends its event); every node with a subscriber reads the
 * stream with `XREAD BLOCK` on a connection of its own. Events older than
 * the backlog age are trimmed with `XTRIM MINID ~` once a minute. A resume
 * reads `XRANGE`; whether events it asks for were trimmed comes from
 * `XINFO STREAM` (entries added, length, first entry). No keyspace notifications: they are per node on a Cluster.
 */
export class RedisEventLog implements EventLog {
  private readonly key: string;
  private readonly listeners = new Set<(e: LoggedEvent) => void>();
  private reader: Redis | Cluster | null = null;
  private reading: Promise<void> | null = null;
  private closed = false;
  /** Appends under way: close waits for them (a draining node's last events still go out). */
  private readonly appending = new Set<Promise<unknown>>();
  private lastTrim = 0;

  constructor(private readonly r: RedisConnection, private readonly options: EventLogOptions) {
    this.key = `${r.prefix}:{events}:log`;
  }

  append(type: string, data: string): void {
    const now = Date.now();
    const trim = now - this.lastTrim > TRIM_EVERY_MS;
    if (trim) this.lastTrim = now;
    const p = this.r.call(async () => {
      await this.r.client.xadd(this.key, 'MAXLEN', '~', this.options.backlog, '*', 'type', type, 'data', data);
      if (trim) await this.r.client.xtrim(this.key, 'MINID', '~', now - this.options.backlogAgeMs);
    }).catch((e) => this.options.onError?.(e)).finally(() => this.appending.delete(p));
    this.appending.add(p);
  }

  async listen(listener: (e: LoggedEvent) => void): Promise<() => void> {
    if (!this.reading) {
      // From the last id now: every event appended after this call is delivered.
      const last = await this.lastId();
      this.reading ??= this.read(last);
    }
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async since(id: string): Promise<{ events: LoggedEvent[]; gap: boolean }> {
    const gap = !isEventId(id) || await this.trimmedAfter(id);
    const raw = await this.r.call(() => this.r.client.xrange(this.key, gap ? '-' : `(${id}`, '+', 'COUNT', this.options.backlog));
    return { events: raw.map(toEvent), gap };
  }

  /**
   * Whether an event after `id` was trimmed. Trimming takes the oldest, so
   * that is: some were trimmed and `id` is older than the first kept. (When
   * `id` is exactly the last one trimmed this says yes although nothing
   * after it is missing: a gap told too often, never one hidden.)
   */
  private async trimmedAfter(id: string): Promise<boolean> {
    let info: unknown[];
    try {
      info = await this.r.call(() => this.r.client.xinfo('STREAM', this.key)) as unknown[];
    } catch (e) {
      if (/no such key/i.test(String((e as Error)?.message))) return id !== '0-0'; // a fresh (or flushed) log
      throw e;
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    if (Number(field('entries-added')) - Number(field('length')) === 0) return false;
    const first = field('first-entry') as [string, string[]] | null;
    // All trimmed (by age): a gap unless `id` is the last one made.
    return compareEventIds(id, first ? first[0] : String(field('last-generated-id'))) < 0;
  }

  async close(): Promise<void> {
    await Promise.all([...this.appending]);
    this.closed = true;
    this.listeners.clear();
    this.reader?.disconnect();
    await this.reading?.catch(() => {});
  }

  private async lastId(): Promise<string> {
    const last = await this.r.call(() => this.r.client.xrevrange(this.key, '+', '-', 'COUNT', 1));
    return last.length > 0 ? last[0][0] : '0-0';
  }

  /** The loop of XREAD BLOCK on its own connection; it stops when the log closes. */
  private async read(from: string): Promise<void> {
    let last = from;
    this.reader = this.r.client.duplicate() as Redis | Cluster;
    this.reader.on('error', () => { /* reconnects by itself */ });
    // Blocks for less than the command timeout the connection inherits.
    const block = Math.max(100, this.r.timeoutMs - 1000);
    while (!this.closed) {
      try {
        if (this.reader.status === 'wait') await this.reader.connect();
        const res = await this.reader.xread('COUNT', READ_COUNT, 'BLOCK', block, 'STREAMS', this.key, last);
        if (!res) continue;
        for (const [, entries] of res) {
          for (const entry of entries) {
            const e = toEvent(entry);
            last = e.id;
            for (const l of this.listeners) l(e);
          }
        }
      } catch {
        if (this.closed) return;
        // Redis unreachable: read on from the same id once it is back (nothing is lost unless trimmed meanwhile).
        await new Promise((done) => setTimeout(done, 500));
      }
    }
  }
}

function toEvent([id, fields]: [string, string[]]): LoggedEvent {
  let type = '';
  let data = '';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1];
    else if (fields[i] === 'data') data = fields[i + 1];
  }
  return { id, type, data };
}
