import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TesseraError } from '../../src/core/errors.js';
import { names, withStore } from './fixture.js';

export function holdsSuite(engine: string): void {
  describe('holds', () => {
    it('takes every name or none: a conflict names the held ones and leaves nothing behind', async () => withStore(engine, async ({ store, session }) => {
      const [a, b] = [await session(), await session()];
      await store.holdResources(a, ['seat:2'], 60_000);
      const refused = await store.holdResources(b, ['seat:1', 'seat:2', 'seat:3'], 60_000).catch((e: TesseraError) => e);
      assert.ok(refused instanceof TesseraError);
      assert.equal(refused.code, 'HOLD_CONFLICT');
      assert.deepEqual(refused.details?.conflicts, ['seat:2']);
      assert.deepEqual((await store.readHolds(b)).live, [], 'none of the free names was taken');
      assert.deepEqual(names(await store.holdResources(b, ['seat:1', 'seat:3'], 60_000)), ['seat:1', 'seat:3']);
    }));

    it('fencing tokens grow with every grant on a name, never go back; an extension keeps its token', async () => withStore(engine, async ({ store, clock, session }) => {
      const [a, b] = [await session('k0', 3600), await session('k0', 3600)];
      const tokens = [(await store.holdResources(a, ['seat:1'], 10_000))[0].token];
      const extended = (await store.holdResources(a, ['seat:1'], 20_000))[0];
      assert.deepEqual([extended.token, extended.fresh], [tokens[0], false]);
      await store.releaseHolds(a, ['seat:1']);
      tokens.push((await store.holdResources(b, ['seat:1'], 10_000))[0].token);
      clock.advance(11_000);
      tokens.push((await store.holdResources(a, ['seat:1'], 10_000))[0].token);
      assert.ok(tokens[0] < tokens[1] && tokens[1] < tokens[2], `tokens ${tokens}`);
    }));

    it('readHolds reports an expired hold once, and drops it in the same step', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.holdResources(id, ['seat:1'], 1_000);
      await store.holdResources(id, ['seat:2'], 60_000);
      clock.advance(2_000);
      const first = await store.readHolds(id);
      assert.deepEqual([names(first.live), names(first.expired)], [['seat:2'], ['seat:1']]);
      assert.equal(first.expired[0].announced, false);
      assert.deepEqual((await store.readHolds(id)).expired, [], 'reported once');
    }));

    it('sweepExpiredHolds reports each expired hold once; readHolds then marks it announced', async () => withStore(engine, async ({ store, clock, session }) => {
      const id = await session('k0', 3600);
      await store.holdResources(id, ['seat:1', 'seat:2'], 1_000);
      clock.advance(2_000);
      assert.deepEqual(names(await store.sweepExpiredHolds(100)).sort(), ['seat:1', 'seat:2']);
      assert.deepEqual(await store.sweepExpiredHolds(100), []);
      assert.deepEqual((await store.readHolds(id)).expired.map((h) => [h.name, h.announced]), [['seat:1', true], ['seat:2', true]]);
    }));

    it('a pool counts units across sessions: POOL_EXHAUSTED past its capacity', async () => withStore(engine, async ({ store, session }) => {
      const [a, b] = [await session(), await session()];
      await store.setPool('ga', 5);
      assert.equal((await store.holdPool(a, 'ga', 3, 60_000)).quantity, 3);
      await assert.rejects(store.holdPool(b, 'ga', 3, 60_000), { code: 'POOL_EXHAUSTED' });
      await store.holdPool(b, 'ga', 2, 60_000);
      assert.equal((await store.setPool('ga', 6)).available, 1);
      await assert.rejects(store.holdResources(a, ['ga'], 60_000), { code: 'INVALID_REQUEST' }, 'a pool is not a resource');
    }));

    it('confirmHolds turns live holds into claims, all or none; an expired one is HOLDS_EXPIRED', async () => withStore(engine, async ({ store, clock, session }) => {
      const [a, b] = [await session('k0', 3600), await session('k0', 3600)];
      await store.holdResources(a, ['seat:1'], 60_000);
      await store.holdResources(a, ['seat:2'], 1_000);
      clock.advance(2_000);
      const refused = await store.confirmHolds(a, null).catch((e: TesseraError) => e);
      assert.equal((refused as TesseraError).code, 'HOLDS_EXPIRED');
      assert.deepEqual((await store.readHolds(a)).claims, [], 'nothing changed');
      assert.deepEqual(names(await store.confirmHolds(a, ['seat:1'])), ['seat:1']);
      await assert.rejects(store.holdResources(b, ['seat:1'], 60_000), { code: 'HOLD_CONFLICT' }, 'a claim blocks');
      assert.equal(await store.freeClaims('seat:1'), 1);
      await store.holdResources(b, ['seat:1'], 60_000);
    }));
  });
}
