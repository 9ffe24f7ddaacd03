import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TesseraError } from '../../core/errors.js';
import { SessionQueue, type Release, type RequestQueue } from '../queue.js';
import type { RedisConnection } from './client.js';

/**
 * The per-session line of requests across every node (docs/protocol.md#serialized-requests), in Redis:
 *
 *   {id}:l   the lease: the ticket of the node whose turn it is (PX, renewed while held)
 *   {id}:q   a list of waiting tickets, in arrival order
 *   {id}:qa  hash ticket -> alive-until (a waiter's node renews it; a dead node's waiters are skipped)
 *
 * Two levels. Within a node, the requests of a session wait in an in-process
 * FIFO (store/queue.ts's SessionQueue); only the head of that line needs the session's lease.
 * The lease is sticky: when a request ends and nobody else asked for it, the
 * node keeps the lease for HOLD_MS, so a session's next request at the same
 * node costs no lease round trip at all. A node that finds the lease taken
 * queues its ticket and PUBLISHes "<id> -" (wanted); the holder gives the
 * lease up as soon as its running request ends (at once when idle). A release
 * hands the lease to the next live waiter in the same script and PUBLISHes
 * "<id> <ticket>" on one channel every node listens to: the waiter takes its
 * turn without another round trip. A waiter also re-asks every second
 * (renewing its place), which covers a lost message or a dead holder whose
 * lease ran out; it is a safety net, not a busy poll. Lease times are Redis's
 * own TIME and TTLs (real time, even under a test clock). A session created
 * with queue:false never keeps an idle lease: another node must see it free.
 * The scripts are lua/queue/.
 */
const LEASE_MS = 10_000;
const RENEW_MS = 3_000;
const ALIVE_MS = 5_000;
const RECHECK_MS = 1_000;
const HOLD_MS = 1_000;

interface Waiter {
  grant: () => void;
  fail: (e: unknown) => void;
}

/** A lease this node holds: by a running request (`busy`) or idle, kept for HOLD_MS. */
interface Lease {
  ticket: string;
  busy: boolean;
  sticky: boolean;
  wanted: boolean;
  renew: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

export class RedisQueue implements RequestQueue {
  private readonly node = randomBytes(6).toString('base64url');
  private seq = 0;
  private readonly local: SessionQueue;
  private readonly waiters = new Map<string, Waiter>();
  private readonly leases = new Map<string, Lease>();
  /** Sessions this node is taking the lease of, and whether another node asked for it meanwhile. */
  private readonly taking = new Map<string, boolean>();
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;
  private closed = false;
  /** Releases in flight per session: the next ACQUIRE of this node waits for them, so it cannot overtake one. */
  private readonly releasing = new Map<string, Promise<unknown>>();

  constructor(private readonly r: RedisConnection, private readonly timeoutMs: number) {
    this.channel = `${r.prefix}:queue`;
    this.local = new SessionQueue(timeoutMs);
  }

  private keys(id: string): string[] {
    return [this.r.key(id, 'l'), this.r.key(id, 'q'), this.r.key(id, 'qa')];
  }

  /** One subscriber connection per queue, opened on first use. */
  private listen(): Promise<void> {
    if (this.closed) return Promise.reject(new TesseraError('QUEUE_TIMEOUT'));
    if (!this.subscribed) {
      const sub = (this.r.client.duplicate() as Redis);
      sub.on('error', () => { /* it reconnects and resubscribes by itself */ });
      sub.on('message', (_channel: string, message: string) => this.wake(message));
      this.subscriber = sub;
      this.subscribed = this.r.call(async () => {
        await sub.connect();
        await sub.subscribe(this.channel);
        if (this.closed) sub.disconnect(); // closed while it connected
      }).catch((e) => {
        this.subscribed = null;
        this.subscriber = null;
        sub.disconnect();
        throw e;
      });
    }
    return this.subscribed;
  }

  private wake(message: string): void {
    const space = message.indexOf(' ');
    const id = message.slice(0, space);
    const ticket = message.slice(space + 1);
    if (ticket === '-') return this.wanted(id);
    const w = this.waiters.get(ticket);
    if (w) w.grant();
    else if (ticket.startsWith(`${this.node}.`)) {
      // Granted to a waiter of this node that gave up meanwhile: pass the turn on.
      void this.release(id, ticket).catch(() => {});
    }
  }

  /** Another node waits for this session: give the lease up once its running request ends. */
  private wanted(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) {
      // The message can overtake the answer that grants this node the lease.
      if (this.taking.has(id)) this.taking.set(id, true);
      return;
    }
    lease.wanted = true;
    if (!lease.busy) void this.giveUp(id);
  }

  private release(id: string, ticket: string): Promise<unknown> {
    const p: Promise<unknown> = this.r.run('queue/release', this.keys(id), [ticket, LEASE_MS, this.channel, id])
      .finally(() => { if (this.releasing.get(id) === p) this.releasing.delete(id); });
    this.releasing.set(id, p);
    return p;
  }

  acquire(id: string, queues: boolean): Promise<Release> {
    const arrived = Date.now();
    // First in this node's own line; its head then needs the session's lease.
    return this.local.acquire(id, queues).then(async (next) => {
      try {
        await this.lease(id, queues, this.timeoutMs - (Date.now() - arrived));
      } catch (e) {
        next();
        throw e;
      }
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const released = this.ended(id);
        next();
        return released;
      };
    });
  }

  /** The session's lease for a request of this node: the one held, or a new one from Redis. */
  private async lease(id: string, queues: boolean, timeoutMs: number): Promise<void> {
    const held = this.leases.get(id);
    if (held) {
      clearTimeout(held.idle);
      held.busy = true;
      return;
    }
    this.taking.set(id, false);
    let ticket: string;
    try {
      ticket = await this.take(id, queues, Math.max(timeoutMs, 0));
    } catch (e) {
      this.taking.delete(id);
      throw e;
    }
    const wanted = this.taking.get(id) ?? false;
    this.taking.delete(id);
    const keys = this.keys(id);
    const lease: Lease = {
      ticket, busy: true, sticky: queues, wanted,
      renew: setInterval(() => void this.r.run('queue/renew', [keys[0]], [ticket, LEASE_MS]).then((kept) => {
        // Lost (the session ended, or Redis lost it): the next request asks again.
        if (Number(kept) !== 1 && this.leases.get(id) === lease) this.drop(id);
      }, () => { /* Redis away: the lease runs out by itself */ }), RENEW_MS),
    };
    lease.renew.unref();
    this.leases.set(id, lease);
    if (queues) void this.listen().catch(() => { /* without it, an idle lease is given up after HOLD_MS anyway */ });
  }

  /** A request of this node ended: keep the lease a moment for the next one, or give it up (settles once given). */
  private ended(id: string): Promise<void> | undefined {
    const lease = this.leases.get(id);
    if (!lease) return;
    lease.busy = false;
    if (lease.wanted || !lease.sticky || this.closed) return this.giveUp(id);
    lease.idle = setTimeout(() => this.giveUp(id), HOLD_MS);
    lease.idle.unref();
  }

  private drop(id: string): Lease | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    this.leases.delete(id);
    clearInterval(lease.renew);
    clearTimeout(lease.idle);
    return lease;
  }

  private giveUp(id: string): Promise<void> | undefined {
    const lease = this.drop(id);
    if (lease) return this.release(id, lease.ticket).then(() => {}, () => { /* the lease runs out by itself */ });
  }

  /** Waits in the session's line in Redis until this node's new ticket holds the lease. */
  private take(id: string, queues: boolean, timeoutMs: number): Promise<string> {
    const ticket = `${this.node}.${++this.seq}`;
    const keys = this.keys(id);
    const acquire = () => this.r.run('queue/acquire', keys, [ticket, LEASE_MS, ALIVE_MS, this.channel, id]);
    const prior = this.releasing.get(id);
    const first = prior ? prior.then(acquire, acquire) : acquire();
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      let recheck: NodeJS.Timeout | undefined;
      let timeout: NodeJS.Timeout | undefined;
      const finish = () => {
        settled = true;
        clearInterval(recheck);
        clearTimeout(timeout);
        this.waiters.delete(ticket);
      };
      const granted = () => {
        if (settled) return;
        finish();
        resolve(ticket);
      };
      const give = (e: unknown) => {
        if (settled) return;
        finish();
        void this.release(id, ticket).catch(() => {});
        reject(e);
      };
      const ask = async () => {
        try {
          if (Number(await acquire()) === 1) granted();
        } catch { /* Redis away for a moment: the queue timeout still bounds the wait */ }
      };
      this.waiters.set(ticket, { grant: granted, fail: give });
      first.then(async (res) => {
        if (Number(res) === 1) return granted();
        if (settled || this.closed) return give(new TesseraError('QUEUE_TIMEOUT'));
        if (!queues) return give(new TesseraError('SESSION_BUSY'));
        await this.listen().catch(() => {});
        if (settled || this.closed) return give(new TesseraError('QUEUE_TIMEOUT'));
        timeout = setTimeout(() => give(new TesseraError('QUEUE_TIMEOUT')), timeoutMs);
        recheck = setInterval(() => void ask(), RECHECK_MS);
        void ask(); // the lease may have been handed over before we listened
      }, (e) => { if (!settled) { finish(); reject(e); } });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.values()) w.fail(new TesseraError('QUEUE_TIMEOUT'));
    // Idle leases go back at once; a running request gives its own up when it ends.
    await Promise.all([...this.leases].filter(([, l]) => !l.busy).map(([id, l]) => {
      this.drop(id);
      return this.release(id, l.ticket).catch(() => {});
    }));
    if (this.subscriber) this.subscriber.disconnect();
  }
}
