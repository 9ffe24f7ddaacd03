import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashKey, newSessionId, newSessionKey } from '../src/core/keys.js';
import { Tessera } from '../src/service/tessera.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers/harness.js';
import { planOf, preparedDuring } from './helpers/sqlite-plans.js';

const client = { id: 'web', roles: ['app'] as const };

test('SQLite keeps only hashes of keys at rest', async () => {
  const dir = tempDir();
  try {
    const tessera = new Tessera({ store: createSqliteStore({ path: join(dir.path, 'keys.db') }) });
    const created = await tessera.createSession(client);
    const { key } = await tessera.withSession(client, created, async () => null);
    await tessera.close();
    const bytes = Buffer.concat(readdirSync(dir.path).map((f) => readFileSync(join(dir.path, f))));
    for (const k of [created.key, key]) {
      assert.ok(!bytes.includes(Buffer.from(k)), 'the key is not stored');
      assert.ok(bytes.includes(hashKey(k)), 'its hash is');
    }
  } finally { dir.remove(); }
});

test("SQLite plans every statement of its own that finds what is due (sweeps of sessions, records, holds, transactions, cursors, login logs) through an index, never a scan", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'plan.db');
    const statements = await preparedDuring(async () => {
      const store = createSqliteStore({ path });
      // Every sweep and listing once, so that a statement prepared on first use is seen too.
      await store.sweepExpired(10);
      await store.sweepExpiredHolds(10);
      await store.sweepExpiredTransactions(10);
      await store.sweepExpiredCursors(10);
      await store.listSessions('alice', null, 3);
      await store.listHolds('seat:', 5);
      await store.close();
    });
    const due = statements.filter((s) => /\b(sweep_at|expires_at|deadline)\s*<=\s*\?/.test(s) && /^\s*(SELECT|DELETE|UPDATE)/i.test(s));
    assert.ok(due.length >= 6, `the store's due-finding statements were seen (${due.length}): ${due.join(' | ')}`);
    for (const source of due) {
      const plan = planOf(path, source);
      assert.match(plan, /USING (COVERING )?INDEX \w+_by_(sweep|expiry|deadline)/, `${source}\n  planned as: ${plan}`);
      assert.doesNotMatch(plan, /\bSCAN \w+(?! USING)/, `${source}\n  planned as: ${plan}`);
    }
    const byUser = statements.filter((s) => s.includes("json_extract(s.user, '$.name')"));
    assert.ok(byUser.length > 0, 'the store reads sessions by user');
    for (const source of byUser) assert.match(planOf(path, source), /USING INDEX sessions_by_user/, source);
    const byName = statements.filter((s) => /FROM holds WHERE name/.test(s));
    assert.ok(byName.length > 0, 'the store reads holds by name');
    for (const source of byName) assert.match(planOf(path, source), /USING (COVERING )?INDEX (holds_by_name|sqlite_autoindex_holds)/, source);
  } finally { dir.remove(); }
});

test('SQLite carries written sessions from the WAL into the database file while it serves (the background checkpointer)', async () => {
  const dir = tempDir();
  try {
    const { statSync } = await import('node:fs');
    const tessera = new Tessera({ store: createSqliteStore({ path: join(dir.path, 'wal.db') }) });
    const before = statSync(join(dir.path, 'wal.db')).size;
    await Promise.all(Array.from({ length: 2000 }, () => tessera.createSession(client)));
    const deadline = Date.now() + 10_000;
    while (statSync(join(dir.path, 'wal.db')).size < before + 100_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(statSync(join(dir.path, 'wal.db')).size >= before + 100_000, 'the sessions reached the database file');
    await tessera.close();
  } finally { dir.remove(); }
});

test('SQLite keeps the WAL small under writes that never pause (the writer restarts it)', async () => {
  const dir = tempDir();
  try {
    const { existsSync, statSync } = await import('node:fs');
    const store = createSqliteStore({ path: join(dir.path, 'busy.db') });
    const wal = join(dir.path, 'busy.db-wal');
    let largest = 0;
    let created = 0;
    const now = Date.now();
    // 80,000 sessions created with no pause between turns, at least 5 KB of WAL each: before
    // the writer copied the tail itself, SQLite never started the WAL again (820 MB here).
    for (const end = Date.now() + 60_000; created < 80_000 && Date.now() < end;) {
      await Promise.all(Array.from({ length: 100 }, () => store.createSession({
        id: newSessionId(), client: 'web', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
        createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null,
      }, hashKey(newSessionKey()))));
      created += 100;
      if (existsSync(wal)) largest = Math.max(largest, statSync(wal).size);
    }
    await store.close();
    process.stdout.write(`# ${created} sessions created; the WAL file was at most ${(largest / 2 ** 20).toFixed(1)} MiB\n`);
    assert.equal(created, 80_000, 'all the sessions were created within a minute');
    assert.ok(largest < 256 * 2 ** 20, `the WAL file reached ${largest} bytes`);
  } finally { dir.remove(); }
});

test('SQLite keeps fencing tokens across restarts: a token never goes back', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'fences.db');
    const tokens: number[] = [];
    for (let run = 0; run < 3; run++) {
      const tessera = new Tessera({ store: createSqliteStore({ path }) });
      const created = await tessera.createSession(client);
      const { result } = await tessera.withSession(client, created, async (ctx) => {
        const held = await tessera.holds.hold(ctx, { resources: ['seat:E1:A1'] });
        if (run === 1) await tessera.holds.confirm(ctx, {});
        else await tessera.holds.release(ctx);
        return held.holds[0].token;
      });
      if (run === 1) await tessera.holds.freeClaim('seat:E1:A1');
      tokens.push(result);
      await tessera.close();
    }
    assert.deepEqual(tokens, [1, 2, 3]);
  } finally { dir.remove(); }
});

