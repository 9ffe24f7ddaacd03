import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { migrate } from './schema.js';

/**
 * The group-commit wrapper: runs `fn` as one step (by default in a savepoint
 * inside the turn's transaction). `savepoint: false` is for a step none of
 * whose paths makes more than one write unguarded (see openDatabase).
 */
export type Step = <A extends unknown[], T>(fn: (...args: A) => T, options?: { savepoint?: boolean }) => (...args: A) => Promise<T>;

export interface SqliteDatabase {
  db: Database.Database;
  step: Step;
  /** Runs `f` in a savepoint (inside a step): its writes stand or fall together. */
  inSavepoint<T>(f: () => T): T;
  /** Commits the open turn, stops the checkpointer, closes the file. */
  close(): Promise<void>;
}

/** The file and its durability (SqliteStoreOptions adds the clock). */
export interface SqliteDatabaseOptions {
  /** The database file, or ':memory:'. Its folder is created if missing. */
  path: string;
  /**
   * 'normal': a commit survives a crash of the process (WAL), the last ones may
   * be lost to a power cut. 'full': fsync on every commit, survives both.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full';
}

const CHECKPOINT_INTERVAL_MS = 100;
/** WAL frames (64 MiB of 4 KiB pages) past which the writer copies the tail so that the WAL starts again. */
const WAL_RESTART_FRAMES = 16_384;

/** Opens the file (WAL, the schema brought to its version: schema.ts), its checkpointer and the group commit of its steps. */
export function openDatabase(options: SqliteDatabaseOptions): SqliteDatabase {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  // A 16 MiB page cache (SQLite's default is 2 MiB): the sessions' B-tree is
  // keyed by random ids. 64 MiB held 60 MiB more memory under load for no
  // measurable gain (BENCHMARKS.md, item 26): a page it misses is a read from
  // the OS's file cache, and the sweep of 1M sessions cost no more CPU with 16.
  db.pragma('cache_size = -16384');
  migrate(db, options.path);
  let checkpointer: Checkpointer | null = null;
  // Set when the checkpointer asks for the WAL's tail during a turn: copied before the next one begins.
  let tailDue = false;
  const copyTail = () => {
    tailDue = false;
    try {
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or failing: the checkpointer's next round asks again
    }
  };
  if (options.path !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    // After the WAL starts again from its top, its file is cut back to this size (twice
    // the restart point, so that a busy writer reuses the file rather than growing it anew).
    db.pragma(`journal_size_limit = ${WAL_RESTART_FRAMES * 4096 * 2}`);
    checkpointer = startCheckpointer(options.path, {
      intervalMs: CHECKPOINT_INTERVAL_MS,
      restartFrames: WAL_RESTART_FRAMES,
      onTail: () => {
        if (db.inTransaction) tailDue = true;
        else copyTail();
      },
      // Should the worker fail, SQLite's own checkpoint on commit takes over again.
      onError: () => db.open && db.pragma('wal_autocheckpoint = 1000'),
    });
  }

  // Group commit: every step of one event-loop turn runs inside one
  // transaction (a step's writes in a savepoint, so a step that throws undoes
  // only itself), committed at the end of the turn; a step's promise settles
  // only after that commit, so nothing is acknowledged before it is durable.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let waiting: { settle: () => void; fail: (e: unknown) => void }[] = [];

  function commitTurn(): void {
    const settled = waiting;
    waiting = [];
    try {
      commit.run();
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const w of settled) w.fail(e);
      return;
    }
    for (const w of settled) w.settle();
  }

  // A savepoint (two statements) per step costs 1-2 µs. A step may go without
  // one only if no path of it makes more than one write unguarded: its other
  // paths wrap their writes in `inSavepoint`.
  function step<A extends unknown[], T>(fn: (...args: A) => T, options: { savepoint?: boolean } = {}): (...args: A) => Promise<T> {
    const txn = options.savepoint === false ? fn : db.transaction(fn);
    return (...args: A) => {
      if (!db.inTransaction) {
        if (tailDue) copyTail();
        begin.run();
        setImmediate(commitTurn);
      }
      let result: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        result = { ok: true, value: txn(...args) };
      } catch (error) {
        result = { ok: false, error };
      }
      return new Promise<T>((resolve, reject) => {
        waiting.push({
          settle: () => (result.ok ? resolve(result.value) : reject(result.error)),
          fail: reject,
        });
      });
    };
  }

  const savepoint = db.transaction((f: () => unknown) => f());

  return {
    db,
    step,
    inSavepoint: <T>(f: () => T): T => savepoint(f) as T,
    async close() {
      if (db.inTransaction) commitTurn();
      await checkpointer?.stop();
      checkpointer = null;
      if (db.open) db.close();
    },
  };
}
