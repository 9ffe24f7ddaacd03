/** The Redis memory of an idle session in use (two records, key rotated past the 16 it remembers): MEMORY USAGE summed over its keys. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { createRedisStore } from '../src/store/redis/index.js';
import { CLIENTS, SessionClient } from './helpers/harness.js';
import { startRedis } from './helpers/redis.js';

const server = await startRedis();
after(() => server.stop());

test('an idle session in use with two records takes under 4 KiB of Redis memory (measured and printed)', async () => {
  const tessera = new Tessera({ config: { clients: CLIENTS }, store: await createRedisStore({ nodes: [{ host: '127.0.0.1', port: server.port }], prefix: 'm' }) });
  const app = buildServer(tessera);
  const redis = new Redis({ port: server.port, host: '127.0.0.1' });
  try {
    const s = await SessionClient.create(app);
    assert.equal((await s.req('PUT', '/v1/session/records/cart', { value: { seats: ['E1:A12', 'E1:A13'], total: 120 } })).status, 200);
    assert.equal((await s.req('PUT', '/v1/session/records/profile', { value: { name: 'Ada', locale: 'en-GB' } })).status, 200);
    // A session in use: every request rotated its key, so it now remembers the 16 keys it superseded.
    for (let i = 0; i < 20; i++) assert.equal((await s.req('POST', '/v1/session/keepalive')).status, 200);
    // Idle: the node gives back the lease it keeps a moment after a request (src/store/redis-queue.ts).
    await app.close();
    await tessera.close();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `m:{${s.id}}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const sizes = await Promise.all(keys.map(async (k) => [k.slice(k.indexOf('}') + 2), Number(await redis.memory('USAGE', k, 'SAMPLES', 0))] as const));
    const total = sizes.reduce((n, [, b]) => n + b, 0);
    // its two index entries (sweep time and id order) add about 2 x (id + score) to shared sorted sets
    assert.ok(total > 0 && total < 4096, `${total} bytes`);
    process.stdout.write(`# Redis memory of an idle session with two records: ${total} bytes over ${keys.length} keys `
      + `(${sizes.map(([k, b]) => `${k} ${b}`).join(', ')})\n`);
  } finally {
    redis.disconnect();
    await app.close();
    await tessera.close(); // again, if the test failed before: both are no-ops the second time
  }
});
