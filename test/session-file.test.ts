/**
 * The library API, in-process: CITY Shop's session file (`set` buffers,
 * `write` persists, `update` refreshes timestamps, `changed`) over scopes,
 * and TRANSACTION_ABORTED through `withSession`, on every engine.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ENGINES, makeHarness, type Harness } from './helpers/harness.js';

const client = { id: 'web', roles: ['app'] as const };
const harnesses: Harness[] = [];
after(async () => { for (const h of harnesses) await h.close(); });

async function setup(engine: string, config: Record<string, unknown> = {}) {
  const h = await makeHarness(engine, { records: { search_results: { kind: 'multiple', ttl: 1200 }, cart_id: { ttl: 600 } }, ...config });
  harnesses.push(h);
  const t = h.tessera;
  const created = await t.createSession(client, { rotation: 'on-privilege-change' });
  const inSession = <T>(work: Parameters<typeof t.withSession<T>>[2]) => t.withSession(client, created, work).then((r) => r.result);
  return { h, t, inSession };
}

for (const engine of Object.keys(ENGINES)) {
  describe(`engine: ${engine}`, () => {
    it('set buffers (read back at once), write persists, changed tells; discard drops', async () => {
      const { t, inSession } = await setup(engine);
      await inSession(async (ctx) => {
        const file = t.sessionFile(ctx);
        assert.equal(file.changed, false);
        assert.equal(await file.read('cart_id'), undefined);
        await file.set('cart_id', 42);
        await file.set('search_results', { q: 'bach' }, 'p1');
        assert.equal(file.changed, true);
        assert.equal(await file.read('cart_id'), 42);
        assert.deepEqual(await file.read('search_results'), { p1: { q: 'bach' } });
        assert.equal(t.describe({ ...ctx }).transactionDepth, 1);
        await file.write('order_data', { total: 10 });
        assert.equal(file.changed, false);
        await file.set('cart_id', 43);
        await file.discard();
        assert.equal(await file.read('cart_id'), 42, 'the discarded set is gone, the written ones stay');
      });
      const after = await inSession(async (ctx) => t.listRecords(ctx));
      assert.deepEqual(after.records.map((r) => r.name), ['cart_id', 'order_data', 'search_results']);
    });

    it('a buffer left unwritten is adopted by the next request, and persists when written there', async () => {
      const { t, inSession } = await setup(engine);
      await inSession(async (ctx) => { await t.sessionFile(ctx).set('cart_id', 7); });
      await inSession(async (ctx) => {
        const file = t.sessionFile(ctx);
        assert.equal(file.changed, true);
        assert.equal(await file.read('cart_id'), 7);
        await file.write();
      });
      assert.equal(await inSession(async (ctx) => ctx.transactionDepth), 0);
      assert.equal(await inSession(async (ctx) => t.sessionFile(ctx).read('cart_id')), 7);
    });

    it('update persists what is buffered and refreshes every record\'s timestamps', async () => {
      const { h, t, inSession } = await setup(engine);
      await inSession(async (ctx) => { await t.sessionFile(ctx).write('cart_id', 1); });
      h.clock.advance(500_000);
      await inSession(async (ctx) => {
        const file = t.sessionFile(ctx);
        await file.set('search_results', 'x', 'k');
        await file.update();
        assert.equal(file.changed, false);
      });
      h.clock.advance(500_000);
      assert.equal(await inSession(async (ctx) => t.sessionFile(ctx).read('cart_id')), 1, 'its 600 s clock restarted by update');
    });

    it('withSession answers TRANSACTION_ABORTED once after an idle rollback', async () => {
      const { h, t, inSession } = await setup(engine, { session: { transactionTimeout: 30 } });
      await inSession(async (ctx) => { await t.sessionFile(ctx).set('cart_id', 1); });
      h.clock.advance(31_000);
      await assert.rejects(inSession(async () => null), { code: 'TRANSACTION_ABORTED' });
      assert.equal(await inSession(async (ctx) => t.sessionFile(ctx).read('cart_id')), undefined);
    });
  });
}
