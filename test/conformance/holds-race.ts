import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send, SessionClient, TOKENS, using } from '../helpers/harness.js';
import { setPool } from './holds.js';

/** A small seeded generator, so a failing race can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Races: correctness under concurrency (Promise.all over inject), not timing. */
export function holdRaceTests(engine: string): void {
  describe('holds under races (section 9)', () => {
    it('20 sessions racing for the same 5 seats: exactly 5 winners and 15 clean conflicts', () => using(engine, {}, async ({ app }, ) => {
      const sessions = await Promise.all(Array.from({ length: 20 }, () => SessionClient.create(app)));
      const seat = (i: number) => `seat:E1:A${i % 5}`;
      const answers = await Promise.all(sessions.map((s, i) => s.req('POST', '/v1/session/holds', { resources: [seat(i)] })));
      const winners = answers.filter((a) => a.status === 201);
      const conflicts = answers.filter((a) => a.status === 409 && a.body.error.code === 'HOLD_CONFLICT');
      assert.equal(winners.length, 5);
      assert.equal(conflicts.length, 15);
      assert.deepEqual(winners.map((w) => w.body.holds[0].resource).sort(), [0, 1, 2, 3, 4].map(seat));
      answers.forEach((a, i) => {
        if (a.status === 409) assert.deepEqual(a.body.error.details.conflicts, [seat(i)], 'a clean conflict names its seat');
      });
      const listed = await send(app, 'GET', '/v1/admin/holds?prefix=seat:E1:', { token: TOKENS.ops });
      assert.equal(listed.body.holds.length, 5);
      process.stdout.write(`# [${engine}] 20 sessions x 5 seats: ${winners.length} winners, ${conflicts.length} conflicts\n`);
    }));

    it('1,000 buyers racing for 100 seats and a pool of 50: no double hold, nothing oversold', () => using(engine, {}, async (h) => {
      const { app } = h;
      await setPool(h, 'ga:E1', 50);
      const rnd = random(20261121);
      const buyers = await Promise.all(Array.from({ length: 1000 }, () => SessionClient.create(app)));
      const wants = buyers.map(() => {
        const n = 1 + Math.floor(rnd() * 3);
        return {
          seats: Array.from({ length: n }, () => `seat:E1:${Math.floor(rnd() * 100)}`),
          units: 1 + Math.floor(rnd() * 2),
          sell: rnd() < 0.7,
        };
      });
      const [seatAnswers, poolAnswers] = await Promise.all([
        Promise.all(buyers.map((b, i) => b.req('POST', '/v1/session/holds', { resources: wants[i].seats }))),
        Promise.all(buyers.map((b, i) => b.send('POST', '/v1/session/holds', { pool: 'ga:E1', quantity: wants[i].units }))),
      ]);
      for (const a of [...seatAnswers, ...poolAnswers]) {
        assert.ok(a.status === 201 || (a.status === 409 && ['HOLD_CONFLICT', 'POOL_EXHAUSTED'].includes(a.body.error.code)), JSON.stringify(a.body));
      }
      // Each seat in at most one winning answer.
      const holder = new Map<string, number>();
      let doubleHolds = 0;
      seatAnswers.forEach((a, i) => {
        if (a.status !== 201) return;
        for (const x of a.body.holds) {
          if (holder.has(x.resource) && holder.get(x.resource) !== i) doubleHolds++;
          holder.set(x.resource, i);
        }
      });
      const heldUnits = poolAnswers.filter((a) => a.status === 201).reduce((n, a) => n + a.body.holds[0].quantity, 0);
      const listed = (await send(app, 'GET', '/v1/admin/holds?limit=10000', { token: TOKENS.ops })).body.holds as { resource?: string; quantity?: number }[];
      const seatsListed = listed.filter((x) => x.resource).map((x) => x.resource);
      assert.equal(new Set(seatsListed).size, seatsListed.length, 'the store holds each seat once');
      assert.equal(listed.reduce((n, x) => n + (x.quantity ?? 0), 0), heldUnits);
      // The sale, racing too: some buyers confirm everything they hold, others release it.
      const sales = await Promise.all(buyers.map((b, i) => (wants[i].sell
        ? b.send('POST', '/v1/session/holds/confirm') : b.send('DELETE', '/v1/session/holds'))));
      const claims = sales.filter((s) => s.status === 200 && s.body.claims).flatMap((s) => s.body.claims);
      const soldSeats = claims.filter((c: { resource?: string }) => c.resource).map((c: { resource: string }) => c.resource);
      const soldUnits = claims.reduce((n: number, c: { quantity?: number }) => n + (c.quantity ?? 0), 0);
      const oversold = Math.max(0, soldUnits - 50) + (soldSeats.length - new Set(soldSeats).size);
      assert.equal(doubleHolds, 0);
      assert.equal(oversold, 0);
      assert.ok(heldUnits >= 49 && heldUnits <= 50, `the pool is used up (${heldUnits})`);
      assert.equal(holder.size, seatsListed.length);
      // What is left to sell: exactly what was released.
      const left = await setPool(h, 'ga:E1', 50);
      assert.equal(left.available, 50 - soldUnits);
      const winners = seatAnswers.filter((a) => a.status === 201).length;
      process.stdout.write(`# [${engine}] 1,000 buyers: ${winners} won seat holds (${holder.size} seats), ${heldUnits} pool units held, `
        + `${soldSeats.length} seats and ${soldUnits} units sold; double holds ${doubleHolds}, oversold ${oversold}\n`);
    }));
  });
}
