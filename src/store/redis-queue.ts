import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TesseraError } from '../core/errors.js';
import type { Release, RequestQueue } from '../queue.js';
import type { RedisConnection } from './redis-client.js';

/**
 * The per-session line of requests across every node (section 4), in Redis:
 *
 *   {id}:l   the lease: the ticket of the request whose turn it is (PX, renewed while it runs)
 *   {id}:q   a list of waiting tickets, in arrival order
 *   {id}:qa  hash ticket -> alive-until (a waiter's node renews it; a dead node's waiters are skipped)
 *
 * A release hands the lease to the next live waiter in the same script and
 * PUBLISHes "<id> <ticket>" on one channel every node listens to: the waiter
 * takes its turn without another round trip. A waiter also re-asks every
 * second (renewing its place), which covers a lost message or a dead holder
 * whose lease ran out; it is a safety net, not a busy poll. Lease times are
 * Redis's own TIME and TTLs (real time, even under a test clock).
 */
const LEASE_MS = 10_000;
const RENEW_MS = 3_000;
const ALIVE_MS = 5_000;
const RECHECK_MS = 1_000;

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local L, Q, QA, ticket = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local function live_head()
  while true do
    local h = redis.call('LINDEX', Q, 0)
    if not h then return nil end
    local until_ = tonumber(redis.call('HGET', QA, h) or '0')
    if until_ > now then return h end
    redis.call('LPOP', Q)
    redis.call('HDEL', QA, h)
  end
end
local function grant(h, channel, id, lease)
  redis.call('SET', L, h, 'PX', lease)
  redis.call('LPOP', Q)
  redis.call('HDEL', QA, h)
  redis.call('PUBLISH', channel, id .. ' ' .. h)
end
`;

/** ARGV: ticket, leaseMs, aliveMs, channel, id. 1: the turn is this ticket's; 0: it waits in line. */
const ACQUIRE = `${COMMON}
local lease, alive, channel, id = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local holder = redis.call('GET', L)
if holder == ticket then return 1 end
if not holder then
  local h = live_head()
  if not h or h == ticket then
    if h then redis.call('LPOP', Q) redis.call('HDEL', QA, h) end
    redis.call('SET', L, ticket, 'PX', lease)
    return 1
  end
  grant(h, channel, id, lease)
end
if redis.call('HEXISTS', QA, ticket) == 0 then redis.call('RPUSH', Q, ticket) end
redis.call('HSET', QA, ticket, now + alive)
redis.call('PEXPIRE', Q, lease + alive)
redis.call('PEXPIRE', QA, lease + alive)
return 0
`;

/** ARGV: ticket, leaseMs, channel, id. Ends this ticket's turn (or its wait) and hands the lease on. */
const RELEASE = `${COMMON}
local lease, channel, id = tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('HEXISTS', QA, ticket) == 1 then
  redis.call('LREM', Q, 1, ticket)
  redis.call('HDEL', QA, ticket)
end
if redis.call('GET', L) ~= ticket then return 0 end
redis.call('DEL', L)
local h = live_head()
if h then grant(h, channel, id, lease) end
return 1
`;

/** ARGV: ticket, leaseMs. Keeps a running turn's lease. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** The queue interface the service uses (see src/queue.ts). */
interface Waiter {
  id: string;
  grant: () => void;
  fail: (e: unknown) => void;
}

export class RedisQueue implements RequestQueue {
  private readonly node = randomBytes(6).toString('base64url');
  private seq = 0;
  private readonly waiters = new Map<string, Waiter>();
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;
  private closed = false;
  /** Releases in flight per session: the next ACQUIRE of this node waits for them, so it cannot overtake one. */
  private readonly releasing = new Map<string, Promise<unknown>>();

  constructor(private readonly r: RedisConnection, private readonly timeoutMs: number) {
    this.channel = `${r.prefix}:queue`;
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
    const ticket = message.slice(space + 1);
    const w = this.waiters.get(ticket);
    if (w) w.grant();
    else if (ticket.startsWith(`${this.node}.`)) {
      // Granted to a waiter of this node that gave up meanwhile: pass the turn on.
      void this.release(message.slice(0, space), ticket).catch(() => {});
    }
  }

  private release(id: string, ticket: string): Promise<unknown> {
    const p: Promise<unknown> = this.r.run(RELEASE, this.keys(id), [ticket, LEASE_MS, this.channel, id])
      .finally(() => { if (this.releasing.get(id) === p) this.releasing.delete(id); });
    this.releasing.set(id, p);
    return p;
  }

  acquire(id: string, queues: boolean): Promise<Release> {
    const ticket = `${this.node}.${++this.seq}`;
    const keys = this.keys(id);
    // Sent at once, so requests arriving at this node keep their order on its connection.
    const acquire = () => this.r.run(ACQUIRE, keys, [ticket, LEASE_MS, ALIVE_MS, this.channel, id]);
    const prior = this.releasing.get(id);
    const first = prior ? prior.then(acquire, acquire) : acquire();
    return new Promise<Release>((resolve, reject) => {
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
        resolve(this.holding(id, ticket));
      };
      const give = (e: unknown) => {
        if (settled) return;
        finish();
        void this.release(id, ticket).catch(() => {});
        reject(e);
      };
      const ask = async () => {
        try {
          if (Number(await this.r.run(ACQUIRE, keys, [ticket, LEASE_MS, ALIVE_MS, this.channel, id])) === 1) granted();
        } catch { /* Redis away for a moment: the queue timeout still bounds the wait */ }
      };
      this.waiters.set(ticket, { id, grant: granted, fail: give });
      first.then(async (res) => {
        if (Number(res) === 1) return granted();
        if (settled || this.closed) return give(new TesseraError('QUEUE_TIMEOUT'));
        await this.listen().catch(() => {});
        if (settled || this.closed) return give(new TesseraError('QUEUE_TIMEOUT'));
        timeout = setTimeout(() => give(new TesseraError('QUEUE_TIMEOUT')), this.timeoutMs);
        recheck = setInterval(() => void ask(), RECHECK_MS);
        void ask(); // the lease may have been handed over before we listened
        if (!queues) give(new TesseraError('SESSION_BUSY'));
      }, (e) => { if (!settled) { finish(); reject(e); } });
    });
  }

  /** The running turn: its lease renewed until released. */
  private holding(id: string, ticket: string): Release {
    const keys = this.keys(id);
    const renew = setInterval(() => void this.r.run(RENEW, [keys[0]], [ticket, LEASE_MS]).catch(() => {}), RENEW_MS);
    renew.unref();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      clearInterval(renew);
      void this.release(id, ticket).catch(() => { /* the lease runs out by itself */ });
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.values()) w.fail(new TesseraError('QUEUE_TIMEOUT'));
    if (this.subscriber) this.subscriber.disconnect();
  }
}
