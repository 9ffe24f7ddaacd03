// The SQLite store's hot steps alone, without HTTP: µs per call of getSession,
// authenticate (with a key rotation) and putRecord, 50 sessions per event-loop
// turn so that group commit works as under load.
//   npm run build && node --import tsx bench/steps.ts [sqlite|memory:|redis://HOST:PORT]
// Like sweep.ts it drives the built store (dist/) untyped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SESSIONS = 50;
const dist = (file: string) => import(pathToFileURL(join(process.cwd(), 'dist', file)).href);
const { openStore } = await dist('store/open.js');
const { hashKey, newSalt, newSessionId, newSessionKey } = await dist('core/keys.js');

const dir = mkdtempSync(join(tmpdir(), 'tessera-steps-'));
const url = process.argv[2] ?? 'sqlite';
const store = await openStore(url === 'sqlite' ? `sqlite:${join(dir, 'steps.db')}` : url);
const now = Date.now();
const ids: string[] = [];
const hashes: Buffer[] = [];
for (let i = 0; i < SESSIONS; i++) {
  ids.push(newSessionId());
  hashes.push(hashKey(newSessionKey()));
  await store.createSession({
    id: ids[i], client: 'bench', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
    createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null,
  }, hashes[i]);
}

async function time(name: string, call: (i: number) => Promise<unknown>): Promise<void> {
  const runs: string[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) {
      await Promise.all(ids.map((_, i) => call(i)));
      n += SESSIONS;
    }
    runs.push(((performance.now() - t0) * 1000 / n).toFixed(2));
  }
  console.log(`${name.padEnd(14)} ${runs.join('  ')} µs per call (3 runs of 1 s)`);
}

await time('getSession', (i) => store.getSession(ids[i]));
await time('authenticate', async (i) => {
  const next = hashKey(newSessionKey());
  const r = await store.authenticate({ id: ids[i], keyHash: hashes[i], client: 'bench', rotation: { keyHash: next, salt: newSalt() }, graceMs: 10_000 });
  if (r.outcome !== 'current') throw new Error(`authenticate answered ${r.outcome}`);
  hashes[i] = next;
});
let n = 0;
await time('putRecord', (i) => store.putRecord(ids[i], {
  name: 'counter', key: null, kind: 'single', value: String(n++), ttlMs: null, ifVersion: null, maxEntries: 100, maxRecords: 100,
}));
await store.close();
rmSync(dir, { recursive: true, force: true });
