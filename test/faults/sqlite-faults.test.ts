/**
 * Fault suite on SQLite (issue 19): kill -9 of `tessera serve` mid-load,
 * started again on the same file (both durability profiles:
 * `synchronous=normal`, the default, and `synchronous=full`); and a SQLite
 * "outage": another process holding the database's write lock for longer
 * than the server's busy timeout, under load. The load and its counts:
 * test/helpers/fault-load.ts. The half-commit check of a crash inside
 * transactions: test/crash.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { assertClean, faultConfig, faultLoad, show, sleep, type Outage } from '../helpers/fault-load.js';
import { tempDir } from '../helpers/harness.js';
import { http, startServe, stopServe, type Node } from '../helpers/serve.js';

const token = 'sqlite-faults-token-0123456789';
const dir = tempDir();
after(() => dir.remove());
const config = faultConfig(dir.path, token);
/** Longer than the server's busy_timeout (5 s, src/store/sqlite/database.ts): its writers do find the file locked. */
const LOCK_S = 8;

describe('faults: SQLite under kill -9 and a lock held by another process', () => {
  for (const synchronous of ['normal', 'full'] as const) {
    it(`kill -9 of the server mid-load, started again on the same file (synchronous=${synchronous}): 0 revoked, 0 acknowledged writes lost`, { timeout: 120_000 }, async (t) => {
      const file = join(dir.path, `kill-${synchronous}.db`);
      let node = await serve(file, synchronous);
      let outage: Outage = null;
      let traffic: ReturnType<typeof faultLoad> | undefined;
      try {
        traffic = faultLoad(token, () => [node], 40, () => outage);
        await traffic.ready;
        await sleep(3000);
        outage = { from: Date.now(), to: Infinity };
        const exited = new Promise((r) => node.child.once('exit', r));
        node.child.kill('SIGKILL');
        await exited;
        node = await serve(file, synchronous);
        outage.to = Date.now();
        await sleep(5000);
        const counts = await traffic.stop();
        t.diagnostic(`SQLite synchronous=${synchronous}, killed at +3 s, serving again after ${outage.to - outage.from} ms: ${show(counts)}`);
        assertClean(counts);
      } finally {
        traffic?.end();
        await stopServe(node);
      }
    });
  }

  it(`another process holds the write lock ${LOCK_S} s under load: 503 STORE_UNAVAILABLE or success, never a 500 or a crash; 0 revoked, 0 lost`, { timeout: 120_000 }, async (t) => {
    const file = join(dir.path, 'locked.db');
    const node = await serve(file);
    let outage: Outage = null;
    let traffic: ReturnType<typeof faultLoad> | undefined;
    try {
      traffic = faultLoad(token, () => [node], 40, () => outage);
      await traffic.ready;
      await sleep(3000);
      const other = new Database(file, { timeout: 5000 });
      // How the server answers /healthz meanwhile (printed, not asserted: better-sqlite3 waits for a lock synchronously).
      let slowestHealth = 0;
      let probing = true;
      const probe = (async () => {
        while (probing) {
          slowestHealth = Math.max(slowestHealth, (await http(node.url, 'GET', '/healthz', { token })).ms);
          await sleep(250);
        }
      })();
      try {
        other.exec('BEGIN EXCLUSIVE');
        outage = { from: Date.now(), to: Infinity };
        await sleep(LOCK_S * 1000);
        other.exec('COMMIT');
        outage.to = Date.now();
      } finally {
        other.close();
        probing = false;
      }
      await probe;
      await sleep(5000);
      const counts = await traffic.stop();
      const stacks = node.output().split('\n').filter((l) => l.includes('"stack"')).length;
      t.diagnostic(`SQLite write lock held ${LOCK_S} s by another process: ${show(counts)}; log lines with a stack ${stacks}; slowest /healthz while locked ${Math.round(slowestHealth)} ms`);
      assert.equal(node.exited(), false, 'the server is still up');
      assertClean(counts);
      // LOCK_S is past the busy timeout: a writer gives up at least once, and its answer is a 503 STORE_UNAVAILABLE.
      assert.ok(counts.unavailable > 0, show(counts));
      assert.deepEqual([...counts.unavailableCodes.keys()], ['503 STORE_UNAVAILABLE'], show(counts));
      assert.equal(stacks, 0, `no stack in the log:\n${node.output().slice(-3000)}`);
      // Serving normally again: a new session.
      assert.equal((await http(node.url, 'POST', '/v1/sessions', { token, body: {} })).status, 201);
    } finally {
      traffic?.end();
      await stopServe(node);
    }
  });
});

function serve(file: string, synchronous: 'normal' | 'full' = 'normal'): Promise<Node> {
  return startServe(['--config', config, '--port', '0', '--store', `sqlite:${file}?synchronous=${synchronous}`], dir.path);
}
