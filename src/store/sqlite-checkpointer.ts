import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves the WAL into the database file from a worker thread with its own
 * connection, so that no request waits for a checkpoint (and its fsync): with
 * SQLite's automatic checkpoint, the commit that crosses 1,000 WAL pages does
 * that work on the event loop and every request behind it waits.
 * PASSIVE never blocks the writer; the WAL restarts from the top once a pass
 * has caught up.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const pass = (mode) => { try { db.pragma('wal_checkpoint(' + mode + ')'); } catch (e) { parentPort.postMessage({ error: String(e) }); } };
const timer = setInterval(() => pass('PASSIVE'), workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); pass('PASSIVE'); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, intervalMs: number, onError: (message: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, driver, intervalMs } });
  worker.on('message', (m: { error?: string }) => { if (m.error) onError(m.error); });
  worker.on('error', (e) => onError(String(e)));
  worker.unref();
  return {
    stop: () => new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.ref(); // keep the process alive until the last pass is done
      worker.postMessage('stop');
    }),
  };
}
