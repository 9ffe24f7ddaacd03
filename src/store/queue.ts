import { TesseraError } from '../core/errors.js';

/**
 * Serializes the requests of each session within this process: one runs at a
 * time, the others wait in arrival order (Tamino's "queue next request").
 * A waiter gives up with QUEUE_TIMEOUT; a session created with queue:false
 * answers SESSION_BUSY instead of waiting.
 */
/** Ends a turn; an engine shared by nodes settles it once the next request, on any node, can have the turn. */
export type Release = () => void | Promise<void>;

/**
 * A line of requests per session. SessionQueue is the in-process one (memory,
 * SQLite); an engine shared by several nodes supplies its own through
 * `SessionStore.createQueue` (Redis: a lease per session, src/store/redis/queue.ts).
 */
export interface RequestQueue {
  /**
   * Takes the session's turn. Call on arrival so the place in line is kept;
   * when someone is ahead, waits (`queues`) or rejects with SESSION_BUSY.
   * Rejects with QUEUE_TIMEOUT after the queue timeout.
   */
  acquire(id: string, queues: boolean): Promise<Release>;
}

interface Waiter {
  grant: (release: Release) => void;
  fail: (error: TesseraError) => void;
  timer: NodeJS.Timeout;
}

interface Line {
  waiters: Waiter[];
}

export class SessionQueue implements RequestQueue {
  private readonly lines = new Map<string, Line>();

  constructor(private readonly timeoutMs: number) {}

  /** True while a request of this session runs. */
  isBusy(id: string): boolean {
    return this.lines.has(id);
  }

  /**
   * Takes the session's turn. Call on arrival so the place in line is kept.
   * When another request of the session is in progress, waits (`queues`) or
   * fails at once with SESSION_BUSY.
   */
  acquire(id: string, queues: boolean): Promise<Release> {
    const line = this.lines.get(id);
    if (!line) {
      this.lines.set(id, { waiters: [] });
      return Promise.resolve(this.releaser(id));
    }
    if (!queues) return Promise.reject(new TesseraError('SESSION_BUSY'));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        fail: reject,
        timer: setTimeout(() => this.drop(id, waiter, new TesseraError('QUEUE_TIMEOUT')), this.timeoutMs),
      };
      line.waiters.push(waiter);
    });
  }

  /** Withdraws a waiter that waited too long; a no-op once it was granted. */
  private drop(id: string, waiter: Waiter, error: TesseraError): void {
    const line = this.lines.get(id);
    const i = line ? line.waiters.indexOf(waiter) : -1;
    if (i < 0) return;
    line!.waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.fail(error);
  }

  private releaser(id: string): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const line = this.lines.get(id)!;
      const next = line.waiters.shift();
      if (!next) {
        this.lines.delete(id);
        return;
      }
      clearTimeout(next.timer);
      next.grant(this.releaser(id));
    };
  }
}
