// The store's hot steps alone, without HTTP: µs per call of createSession,
// getSession, authenticate (with a key rotation) and putRecord (and one that
// grows its entry, so the byte quota sums the session's values), and a PUT's
// store work as two steps and as one, 50 calls per event-loop turn so that
// group commit works as under load.
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
const fresh = (id: string = newSessionId()) => ({
  id, client: 'bench', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
  createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null,
});
const ids: string[] = [];
const hashes: Buffer[] = [];
for (let i = 0; i < SESSIONS; i++) {
  ids.push(newSessionId());
  hashes.push(hashKey(newSessionKey()));
  await store.createSession(fresh(ids[i]), hashes[i]);
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

let n = 0;
const write = () => ({ name: 'counter', key: null, kind: 'single', value: String(n++), ttlMs: null, ifVersion: null, maxEntries: 100, maxRecords: 100, maxRecordBytes: 1048576 });
// A rotation, with a record write riding on it (`write`: one step, as a PUT is served) or not.
async function authenticate(i: number, w?: ReturnType<typeof write>): Promise<{ written?: unknown }> {
  const next = hashKey(newSessionKey());
  const r = await store.authenticate({ id: ids[i], keyHash: hashes[i], client: 'bench', rotation: { keyHash: next, salt: newSalt() }, graceMs: 10_000, write: w });
  if (r.outcome !== 'current') throw new Error(`authenticate answered ${r.outcome}`);
  hashes[i] = next;
  return r;
}

await time('createSession', () => store.createSession(fresh(), hashKey(newSessionKey())));
await time('getSession', (i) => store.getSession(ids[i]));
await time('authenticate', (i) => authenticate(i));
await time('putRecord', (i) => store.putRecord(ids[i], write()));
// A write that grows its entry, so the byte quota (session.maxRecordBytes) sums every live value of the
// session: 20 entries of a multiple record, written in turn, each one byte longer than the last time.
const grown = ids.map(() => 0);
await time('putRecord grows', (i) => {
  const c = grown[i]++;
  return store.putRecord(ids[i], { ...write(), name: 'bag', key: `k${c % 20}`, kind: 'multiple', value: JSON.stringify('x'.repeat(10 + Math.floor(c / 20))) });
});
// A PUT's store work: two steps (before) against one (authenticate with its write), alternated.
for (let r = 0; r < 2; r++) {
  await time('auth, then put', async (i) => {
    await authenticate(i);
    await store.putRecord(ids[i], write());
  });
  await time('auth with put', async (i) => {
    if (!(await authenticate(i, write())).written) throw new Error('the write did not ride on the authentication');
  });
}
await store.close();
rmSync(dir, { recursive: true, force: true });
