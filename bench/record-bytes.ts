// What the per-session byte quota (session.maxRecordBytes) costs as a session
// fills: one session takes new entries (a write that grows, so the quota
// sums), 1000 per multiple record, 10-byte values; µs per putRecord over the
// last 500 writes before each size. A write that keeps its value's size does
// not sum (see steps.ts for that path).
//   npm run build && node --import tsx bench/record-bytes.ts [sqlite|memory:|redis://HOST:PORT]
// Like steps.ts it drives the built store (dist/) untyped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SIZES = [1000, 5000, 20000];
const dist = (file: string) => import(pathToFileURL(join(process.cwd(), 'dist', file)).href);
const { openStore } = await dist('store/open.js');
const { hashKey, newSessionId, newSessionKey } = await dist('core/keys.js');

const dir = mkdtempSync(join(tmpdir(), 'tessera-bytes-'));
const url = process.argv[2] ?? 'sqlite';
const store = await openStore(url === 'sqlite' ? `sqlite:${join(dir, 'bytes.db')}` : url);
const now = Date.now();
const id = newSessionId();
await store.createSession({
  id, client: 'bench', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
  createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null,
}, hashKey(newSessionKey()));

const out: string[] = [];
let n = 0;
for (const size of SIZES) {
  let t0 = 0;
  for (; n < size; n++) {
    if (n === size - 500) t0 = performance.now();
    await store.putRecord(id, {
      name: `bag${Math.floor(n / 1000)}`, key: `k${n % 1000}`, kind: 'multiple', value: JSON.stringify(String(n).padStart(8, '0')),
      ttlMs: null, ifVersion: null, maxEntries: 1000, maxRecords: 256, maxRecordBytes: 1048576,
    });
  }
  out.push(`${size}: ${((performance.now() - t0) * 1000 / 500).toFixed(1)}`);
}
console.log(`new entry, µs per putRecord with N entries held: ${out.join('  ')}`);
await store.close();
rmSync(dir, { recursive: true, force: true });
