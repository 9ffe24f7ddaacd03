import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves the WAL into the database file from a worker thread with its own
 * connection, so that no request waits for a checkpoint (and its fsync): with
 * SQLite's automatic checkpoint, the commit that crosses 1,000 WAL pages does
 * that work on the event loop and every request behind it waits.
 *
 * PASSIVE never blocks the writer. But SQLite starts the WAL again from its
 * top only when a write begins with every frame already checkpointed, and
 * under steady writes the writer always adds frames while a pass runs: the
 * WAL then grows without end (900 MB in 10 s of session creation). So each
 * round makes passes until one has little left to copy (each copies what was
 * written during the one before), and once the WAL is past `restartFrames`
 * it asks the writer (`onTail`) to copy that short tail itself, between two
 * of its transactions; the writer's next transaction then starts the WAL
 * from the top.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const pass = () => {
  try { return db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch (e) { parentPort.postMessage({ error: String(e) }); return null; }
};
const round = () => {
  // Each pass copies what the writer added during the one before, so a few passes leave a short tail.
  let last = pass();
  for (let i = 0, before = 0; last && i < 10 && last.checkpointed - before > workerData.tailFrames; i++) {
    before = last.checkpointed;
    last = pass();
  }
  if (last && last.log >= workerData.restartFrames) parentPort.postMessage({ tail: true });
};
const timer = setInterval(round, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); pass(); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  intervalMs: number;
  /** WAL frames past which the writer is asked to copy the tail (and so restart the WAL). */
  restartFrames: number;
  /** Called on the writer's thread: checkpoint now, between two transactions. */
  onTail: () => void;
  /** The worker failed; the caller falls back to SQLite's own checkpoints. */
  onError: (message: string) => void;
}

export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const workerData = { path, driver, intervalMs: options.intervalMs, restartFrames: options.restartFrames, tailFrames: 64 };
  const worker = new Worker(WORKER, { eval: true, workerData });
  worker.on('message', (m: { error?: string; tail?: boolean }) => {
    if (m.error) options.onError(m.error);
    else if (m.tail) options.onTail();
  });
  worker.on('error', (e) => options.onError(String(e)));
  worker.unref();
  return {
    stop: () => new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.ref(); // keep the process alive until the last pass is done
      worker.postMessage('stop');
    }),
  };
}
