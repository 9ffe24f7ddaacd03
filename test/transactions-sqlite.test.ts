/**
 * Scopes and cursors live in the SQLite file: an open transaction survives a
 * restart of the process, a second node on the same file finds it, and
 * nothing of it is in the committed records before the outer commit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Tessera } from '../src/service/tessera.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers/harness.js';

const client = { id: 'web', roles: ['app'] as const };
const config = { records: { results: { kind: 'multiple' } } };

function committed(path: string, sessionId: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, key, value FROM records WHERE session_id = ? ORDER BY name, key').all(sessionId) as { name: string; key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key ? `${r.name}/${r.key}` : r.name, r.value]));
  } finally { db.close(); }
}

test('an open transaction, its holds and a cursor survive a restart of the process; nothing is committed before the outer commit', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'restart.db');
    let tessera = new Tessera({ store: createSqliteStore({ path }), config });
    const created = await tessera.createSession(client, { rotation: 'on-privilege-change' });
    const cursor = (await tessera.withSession(client, created, async (ctx) => {
      await tessera.putRecord(ctx, 'cart', null, { value: 'committed' });
      await tessera.putRecord(ctx, 'results', 'a', { value: 1 });
      await tessera.putRecord(ctx, 'results', 'b', { value: 2 });
      await tessera.transactions.begin(ctx);
      await tessera.putRecord(ctx, 'cart', null, { value: 'outer' });
      await tessera.holds.hold(ctx, { resources: ['seat:1'] });
      await tessera.transactions.begin(ctx);
      await tessera.deleteRecord(ctx, 'results', 'a');
      return tessera.cursors.open(ctx, { record: 'results', pageSize: 1 });
    })).result.cursor;
    await tessera.close();
    assert.deepEqual(committed(path, created.id), { cart: '"committed"', 'results/a': '1', 'results/b': '2' });

    tessera = new Tessera({ store: createSqliteStore({ path }), config });
    const { result } = await tessera.withSession(client, created, async (ctx) => ({
      depth: tessera.describe(ctx).transactionDepth,
      cart: (await tessera.getRecord(ctx, 'cart')) as { value: unknown },
      page: await tessera.cursors.page(ctx, cursor),
      holds: (await tessera.holds.list(ctx)).holds.map((h) => h.resource),
    }));
    assert.deepEqual(result, { depth: 2, cart: { ...result.cart, value: 'outer' }, page: { ...result.page, position: 1, done: true }, holds: ['seat:1'] });
    assert.equal(result.page.items[0].key, 'b', 'the cursor pages its snapshot, taken inside the scope');
    await tessera.withSession(client, created, async (ctx) => {
      await tessera.transactions.commit(ctx);
      await tessera.transactions.commit(ctx);
    });
    assert.deepEqual(committed(path, created.id), { cart: '"outer"', 'results/b': '2' });
    await tessera.close();
  } finally { dir.remove(); }
});

test('a second node on the same file serves the session its open scope, and keeps it from everyone else until the commit', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'nodes.db');
    const a = new Tessera({ store: createSqliteStore({ path }), config });
    const b = new Tessera({ store: createSqliteStore({ path }), config });
    const s = await a.createSession(client, { rotation: 'on-privilege-change' });
    await a.withSession(client, s, async (ctx) => {
      await a.transactions.begin(ctx);
      await a.putRecord(ctx, 'cart', null, { value: 'node a' });
      await a.holds.hold(ctx, { resources: ['seat:9'] });
    });
    const other = await b.createSession(client);
    const blocked = await b.withSession(client, other, (ctx) => b.holds.hold(ctx, { resources: ['seat:9'] })).catch((e) => e.code);
    assert.equal(blocked, 'HOLD_CONFLICT', 'the hold taken in the scope is in effect at once, on every node');
    const seen = await b.withSession(client, s, async (ctx) => [ctx.transactionDepth, await b.getRecord(ctx, 'cart')]);
    assert.deepEqual([seen.result[0], (seen.result[1] as { value: unknown }).value], [1, 'node a']);
    assert.deepEqual(committed(path, s.id), {}, 'not in the committed records');
    await b.withSession(client, s, (ctx) => b.transactions.rollback(ctx));
    const free = await b.withSession(client, other, (ctx) => b.holds.hold(ctx, { resources: ['seat:9'] }));
    assert.equal(free.result.holds[0].resource, 'seat:9', 'rolled back on node b: the hold is released');
    await a.close();
    await b.close();
  } finally { dir.remove(); }
});
