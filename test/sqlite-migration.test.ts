import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { hashKey } from '../src/core/keys.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/schema.js';
import { tempDir } from './helpers/harness.js';

/**
 * test/fixtures/sqlite-v1.sqlite was written by Tessera at commit cb122c8
 * (schema version 1; made by test/fixtures/make-sqlite-v1.mjs, whose fixed
 * ids, keys and clock are repeated here).
 */
const FIXTURE = new URL('./fixtures/sqlite-v1.sqlite', import.meta.url).pathname;
const T0 = 1_800_000_000_000;
const ID = (c: string) => c.repeat(43);

test('SQLite opens a version-1 file made before the one schema, and finds every session, record, hold, user and claim', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'v1.db');
    copyFileSync(FIXTURE, path);
    for (let open = 0; open < 2; open++) { // the migration, then a plain open of the migrated file
      const store = createSqliteStore({ path, clock: () => T0 + 1000 });
      try {
        const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((x) => store.getSession(ID(x))));
        assert.deepEqual([a?.id, b?.id, c?.id], [ID('A'), ID('B'), ID('C')], 'every session');
        assert.deepEqual(a!.user, { name: 'alice', roles: ['buyer'] }, 'the logged-in user of a session');
        assert.equal(b!.user, null);

        const recordsA = await store.listRecords(ID('A'));
        assert.deepEqual(recordsA.map((r) => [r.name, r.key, r.value, r.version]), [
          ['cart', null, '{"items":[1,2,3]}', 2],
          ['prefs', 'lang', '"fr"', 1],
          ['prefs', 'theme', '"dark"', 1],
        ], 'a single record (with its version) and a multiple one');
        assert.deepEqual((await store.getRecord(ID('B'), 'note')).map((r) => [r.value, r.expiresAt]), [['"hello"', T0 + 86_400_000]]);

        const holdsA = await store.readHolds(ID('A'));
        assert.deepEqual(holdsA.live.map((h) => [h.name, h.token, h.quantity]), [['seat:1', 1, null], ['seat:2', 1, null]], 'resource holds');
        const holdsC = await store.readHolds(ID('C'));
        assert.deepEqual(holdsC.live.map((h) => [h.name, h.quantity]), [['tickets', 3]], 'a pool hold');
        const holdsB = await store.readHolds(ID('B'));
        assert.deepEqual(holdsB.claims.map((h) => [h.name, h.token]), [['seat:9', 1]], 'a claim');
        assert.equal((await store.listHolds('', 100)).length, 3);
        await assert.rejects(store.holdResources(ID('C'), ['seat:9'], 60_000), { code: 'HOLD_CONFLICT' }, 'the claim still blocks');
        assert.equal((await store.setPool('tickets', 10)).available, 7, 'the pool counts its units');

        assert.deepEqual((await store.listUsers()).map((u) => [u.name, u.roles, u.passwordHash]),
          [['alice', ['buyer'], 'hash-alice'], ['bob', ['admin', 'buyer'], 'hash-bob']], 'every user');
        assert.deepEqual((await store.listSessions('alice', null, 10)).map((s) => s.id), [ID('A')], 'the user index');

        const auth = await store.authenticate({ id: ID('A'), keyHash: hashKey('key-A2'), client: 'web', rotation: null, graceMs: 0 });
        assert.equal(auth.outcome, 'current', 'the key set by the login');
        const replay = await store.authenticate({ id: ID('B'), keyHash: hashKey('key-Bx'), client: 'web', rotation: null, graceMs: 0 });
        assert.equal(replay.outcome, 'invalid');
      } finally { await store.close(); }
    }
    const db = new Database(path, { readonly: true });
    try { assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION); } finally { db.close(); }
  } finally { dir.remove(); }
});

test('SQLite migrates a version-1 file that has only sessions and records (written before holds existed)', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'v1-bare.db');
    copyFileSync(FIXTURE, path);
    const db = new Database(path);
    const others = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sessions', 'records')").pluck().all() as string[];
    db.exec('DROP INDEX IF EXISTS sessions_by_user');
    for (const t of others) db.exec(`DROP TABLE ${t}`);
    db.close();
    const store = createSqliteStore({ path, clock: () => T0 + 1000 });
    try {
      assert.equal((await store.listRecords(ID('A'))).length, 3);
      assert.equal((await store.holdResources(ID('B'), ['seat:1'], 60_000))[0].token, 1, 'the holds tables exist');
      assert.deepEqual((await store.listSessions('alice', null, 10)).map((s) => s.id), [ID('A')], 'the user index is rebuilt');
    } finally { await store.close(); }
  } finally { dir.remove(); }
});

test('SQLite refuses a file of a newer schema version', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'future.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => createSqliteStore({ path }), /schema version/);
  } finally { dir.remove(); }
});
