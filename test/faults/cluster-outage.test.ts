/**
 * Fault suite on a Redis Cluster (issue 19): the whole Cluster down under a
 * steady load of many sessions served by two `tessera serve` nodes, then
 * back; and kill -9 of one of the two nodes mid-load. Every Cluster node has
 * `appendfsync always` (what a master acknowledged survives its kill -9).
 * The load and its counts: test/helpers/fault-load.ts. A single master that
 * fails over to its replica: test/redis-faults.test.ts.
 */
import { after, describe, it } from 'node:test';
import { AOF, assertClean, faultConfig, faultLoad, killOneOfTwo, show, sleep, type Outage } from '../helpers/fault-load.js';
import { tempDir } from '../helpers/harness.js';
import { startCluster } from '../helpers/redis.js';
import { startServe, stopServe } from '../helpers/serve.js';

const token = 'cluster-outage-token-0123456789';
const dir = tempDir();
after(() => dir.remove());
const config = faultConfig(dir.path, token);
const OUTAGE_S = 30;

describe('faults: a Redis Cluster down and a dead node under load', () => {
  it(`every Cluster node down ${OUTAGE_S} s under two nodes' load: 0 revoked, 0 acknowledged writes lost, 503 only while down`, { timeout: (OUTAGE_S + 90) * 1000 }, async (t) => {
    const cluster = await startCluster(3, 0, AOF);
    const store = `redis-cluster://${cluster.seeds}`;
    const a = await startServe(['--config', config, '--port', '0', '--store', store], dir.path);
    const b = await startServe(['--config', config, '--port', '0', '--store', store], dir.path);
    let outage: Outage = null;
    let traffic: ReturnType<typeof faultLoad> | undefined;
    try {
      // Requests alternate between the two nodes.
      traffic = faultLoad(token, () => [a, b], 40, () => outage);
      await traffic.ready;
      await sleep(3000);
      outage = { from: Date.now(), to: Infinity };
      await cluster.kill();
      await sleep(OUTAGE_S * 1000);
      await cluster.restart(); // every node back and cluster_state:ok
      outage.to = Date.now();
      await sleep(5000);
      const counts = await traffic.stop();
      t.diagnostic(`Cluster down ${OUTAGE_S} s, back (cluster_state:ok) after ${Math.round((outage.to - outage.from) / 1000)} s: ${show(counts)}`);
      assertClean(counts);
    } finally {
      traffic?.end();
      await stopServe(a);
      await stopServe(b);
      await cluster.stop();
    }
  });

  it('kill -9 of one of two nodes on a Cluster mid-load: 0 sessions revoked, 0 acknowledged writes lost', { timeout: 120_000 }, async (t) => {
    const cluster = await startCluster(3, 0, AOF);
    const store = `redis-cluster://${cluster.seeds}`;
    try {
      const { counts, line } = await killOneOfTwo(token, config, dir.path, store, 15);
      t.diagnostic(line);
      assertClean(counts);
    } finally {
      await cluster.stop();
    }
  });
});
