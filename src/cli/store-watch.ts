import type { FastifyBaseLogger } from 'fastify';
import type { SessionStore } from '../store/contract.js';
import { reason } from './store.js';

/**
 * A store lost while serving is logged twice: once when it is lost (the
 * first failure, in one line) and once when it answers again, with how many
 * requests failed meanwhile. Never a line per failure or per sweep: a Redis
 * that is down makes every request and every sweep (each second) fail.
 */
export class StoreWatch {
  private lostAt: number | null = null;
  private failed = 0;
  private probe: NodeJS.Timeout | undefined;

  constructor(private readonly store: SessionStore, private readonly url: string, private readonly log: FastifyBaseLogger,
    private readonly probeMs = 1000) {}

  get lost(): boolean {
    return this.lostAt !== null;
  }

  /** A request answered STORE_UNAVAILABLE. */
  requestFailed(err: unknown): void {
    this.failed++;
    this.markLost(err);
  }

  /** Anything else that found the store failing (the background sweep). */
  markLost(err: unknown): void {
    if (this.lostAt !== null) return;
    this.lostAt = Date.now();
    this.log.error({ store: this.url, reason: reason(err) }, `store lost: ${this.url}: ${reason(err)}`);
    // Asks the store every probeMs until it answers: then says so once.
    this.probe = setInterval(() => void this.check(), this.probeMs).unref();
  }

  private async check(): Promise<void> {
    try {
      await this.store.ping();
    } catch {
      return;
    }
    if (this.lostAt === null) return;
    const seconds = Math.round((Date.now() - this.lostAt) / 100) / 10;
    const failed = this.failed;
    this.lostAt = null;
    this.failed = 0;
    clearInterval(this.probe);
    this.log.info({ store: this.url, downSeconds: seconds, failedRequests: failed },
      `store back: ${this.url} after ${seconds} s; ${failed} request${failed === 1 ? '' : 's'} failed meanwhile`);
  }

  stop(): void {
    clearInterval(this.probe);
  }
}
