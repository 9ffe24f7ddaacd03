/**
 * Property test of section 6 on every engine: random sequences of open /
 * write / delete / commit / rollback (one, or all) against a simple model,
 * a stack of copies of the records. After every step the session's view (the
 * record list, with versions) and its depth must be the model's; at the end
 * everything open is rolled back and what is left must be what was committed.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { TesseraError } from '../src/core/errors.js';
import { ENGINES, makeHarness, type Harness } from './helpers/harness.js';

export const RUNS_PER_ENGINE = 1000;
/** The Redis engines pay a few round trips per step (1000 sequences took about 34 s each): fewer there. */
const runsOf = (engine: string) => (engine.startsWith('redis') ? 250 : RUNS_PER_ENGINE);
const TARGETS = ['a', 'b', 'm/x', 'm/y', 'm/z'] as const;

type Op =
  | { op: 'open' } | { op: 'commit' } | { op: 'rollback' } | { op: 'rollbackAll' }
  | { op: 'put'; target: (typeof TARGETS)[number]; value: number }
  | { op: 'del'; target: (typeof TARGETS)[number] | 'm' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'open' } as Op) },
  { weight: 1, arbitrary: fc.constant({ op: 'commit' } as Op) },
  { weight: 1, arbitrary: fc.constant({ op: 'rollback' } as Op) },
  { weight: 1, arbitrary: fc.constant({ op: 'rollbackAll' } as Op) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('put' as const), target: fc.constantFrom(...TARGETS), value: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), target: fc.constantFrom(...TARGETS, 'm' as const) }) },
);

type State = Map<string, { value: number; version: number }>;

/** The model: the committed state, then one full copy per open scope. */
class Model {
  stack: State[] = [new Map()];
  get top(): State { return this.stack[this.stack.length - 1]; }
  get depth(): number { return this.stack.length - 1; }

  /** What the step should answer: null for success, else the error code. */
  apply(o: Op): string | null {
    switch (o.op) {
      case 'open':
        this.stack.push(new Map(this.top));
        return null;
      case 'commit':
        if (this.depth === 0) return 'TRANSACTION_NOT_OPEN';
        this.stack.splice(-2, 2, this.top);
        return null;
      case 'rollback':
        if (this.depth === 0) return 'TRANSACTION_NOT_OPEN';
        this.stack.pop();
        return null;
      case 'rollbackAll':
        if (this.depth === 0) return 'TRANSACTION_NOT_OPEN';
        this.stack.length = 1;
        return null;
      case 'put':
        this.top.set(o.target, { value: o.value, version: (this.top.get(o.target)?.version ?? 0) + 1 });
        return null;
      case 'del': {
        const hit = o.target === 'm' ? [...this.top.keys()].filter((k) => k.startsWith('m/')) : this.top.has(o.target) ? [o.target] : [];
        if (hit.length === 0) return 'RECORD_NOT_FOUND';
        for (const k of hit) this.top.delete(k);
        return null;
      }
    }
  }

  view(): [string, number, number][] {
    return [...this.top].map(([k, v]) => [k, v.value, v.version] as [string, number, number]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  }
}

const client = { id: 'web', roles: ['app'] as const };

async function runSequence(h: Harness, ops: Op[]): Promise<void> {
  const t = h.tessera;
  const created = await t.createSession(client);
  let key = created.key;
  const model = new Model();
  const request = async <T>(work: Parameters<typeof t.withSession<T>>[2]) => {
    const r = await t.withSession(client, { id: created.id, key }, work);
    key = r.key;
    return r.result;
  };
  const seen = async () => request(async (ctx) => {
    const { records } = await t.listRecords(ctx);
    const flat: [string, number, number][] = [];
    for (const r of records) {
      if ('entries' in r) for (const e of r.entries) flat.push([`${r.name}/${e.key}`, e.value as number, e.version]);
      else flat.push([r.name, r.value as number, r.version]);
    }
    return { flat, depth: t.describe(ctx).transactionDepth };
  });
  for (const o of ops) {
    const expected = model.apply(o);
    const code = await request(async (ctx) => {
      try {
        if (o.op === 'open') await t.transactions.begin(ctx);
        else if (o.op === 'commit') await t.transactions.commit(ctx);
        else if (o.op === 'rollback') await t.transactions.rollback(ctx);
        else if (o.op === 'rollbackAll') await t.transactions.rollback(ctx, { all: 'true' });
        else if (o.op === 'put') {
          const [name, k] = o.target.split('/');
          await t.putRecord(ctx, name, k ?? null, { value: o.value });
        } else {
          const [name, k] = o.target.split('/');
          await t.deleteRecord(ctx, name, k ?? null);
        }
        return null;
      } catch (e) {
        if (e instanceof TesseraError) return e.code;
        throw e;
      }
    });
    assert.equal(code, expected, `${JSON.stringify(o)} answered ${code}`);
    const now = await seen();
    assert.deepEqual(now.flat, model.view(), `after ${JSON.stringify(o)}`);
    assert.equal(now.depth, model.depth);
  }
  if (model.depth > 0) {
    await request((ctx) => t.transactions.rollback(ctx, { all: 'true' }));
    model.stack.length = 1;
  }
  assert.deepEqual((await seen()).flat, model.view(), 'what is left is what was committed');
}

const harnesses: Harness[] = [];
after(async () => { for (const h of harnesses) await h.close(); });

for (const engine of Object.keys(ENGINES)) {
  describe(`engine: ${engine}`, () => {
    const runsWanted = runsOf(engine);
    it(`keeps the model's view through ${runsWanted} random sequences of scope operations`, async (t) => {
      const h = await makeHarness(engine, { records: { m: { kind: 'multiple' } } });
      harnesses.push(h);
      let runs = 0;
      let steps = 0;
      const seed = Number(process.env.TESSERA_FC_SEED ?? Date.now() % 2 ** 31);
      await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
        runs++;
        steps += ops.length;
        await runSequence(h, ops);
      }), { numRuns: runsWanted, seed });
      assert.equal(runs, runsWanted);
      t.diagnostic(`${engine}: ${runs} sequences, ${steps} operations (seed ${seed}; TESSERA_FC_SEED replays it)`);
    });
  });
}
