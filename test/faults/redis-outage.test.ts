/**
 * Fault suite: Redis outages and a dead node under a steady load of many
 * sessions (issue 19, item 1). Real `tessera serve` processes on a Redis
 * with `appendfsync always` (so what Redis acknowledged survives its kill -9).
 * The load and its counts: test/helpers/fault-load.ts.
 */
import { after, describe, it } from 'node:test';
import { AOF, assertClean, faultConfig, faultLoad, killOneOfTwo, show, sleep, type Outage } from '../helpers/fault-load.js';
import { tempDir } from '../helpers/harness.js';
import { startRedis, type RedisNode } from '../helpers/redis.js';
import { startServe, stopServe } from '../helpers/serve.js';

const token = 'outage-test-token-0123456789';
const dir = tempDir();
after(() => dir.remove());
const config = faultConfig(dir.path, token);

describe('faults: Redis outages and a dead node under load', () => {
  for (const seconds of [30, 60]) {
    it(`Redis down ${seconds} s: 0 sessions revoked, 0 acknowledged writes lost, 503 only while down`, { timeout: (seconds + 90) * 1000 }, async (t) => {
      const redis: RedisNode = await startRedis(AOF);
      const node = await startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`], dir.path);
      let outage: Outage = null;
      let traffic: ReturnType<typeof faultLoad> | undefined;
      try {
        traffic = faultLoad(token, () => [node], 40, () => outage);
        await sleep(3000);
        outage = { from: Date.now(), to: Infinity };
        await redis.kill();
        await sleep(seconds * 1000);
        await redis.restart();
        outage.to = Date.now();
        await sleep(5000);
        const counts = await traffic.stop();
        t.diagnostic(`Redis down ${seconds} s: ${show(counts)}`);
        assertClean(counts);
      } finally {
        traffic?.end();
        await stopServe(node);
        await redis.stop();
      }
    });
  }

  it('kill -9 of one of two nodes mid-load: 0 sessions revoked, 0 acknowledged writes lost', { timeout: 120_000 }, async (t) => {
    const redis = await startRedis(AOF);
    const store = `redis://127.0.0.1:${redis.port}`;
    try {
      const { counts, line } = await killOneOfTwo(token, config, dir.path, store, 20);
      t.diagnostic(line);
      assertClean(counts);
    } finally {
      await redis.stop();
    }
  });
});
