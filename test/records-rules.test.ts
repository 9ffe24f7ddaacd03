/**
 * The record write and delete rules, held to core/records.ts on every engine.
 * The engines check them inside their atomic step: memory and SQLite call
 * planWrite and checkDelete, the Redis engine's Lua repeats them
 * (lua/lib/put_record.lua, lua/records/delete.lua, and the scoped branches
 * that check against what a transaction sees). Random sequences of puts and
 * deletes, with If-Match versions, both kinds and small limits (entries,
 * records, bytes), go to the store directly (no HTTP), outside or inside an
 * open transaction; each
 * answer must be what the pure rules decide on a model of the live records,
 * and the records listed after must be the model's.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { manualClock } from '../src/core/clock.js';
import { TesseraError } from '../src/core/errors.js';
import { hashKey, newSessionId, newSessionKey } from '../src/core/keys.js';
import { checkDelete, planWrite, valueBytes, type RecordKind, type RecordWrite } from '../src/core/records.js';
import type { SessionStore } from '../src/store/contract.js';
import { ENGINES } from './helpers/harness.js';

const MAX_ENTRIES = 2;
const MAX_RECORDS = 2;
/** Small enough that values of 1 to 3 bytes reach it (four entries could hold 12). */
const MAX_BYTES = 7;
const runsOf = (engine: string) => (engine.startsWith('redis') ? 150 : 400);

type Op =
  | { op: 'put'; name: string; key: string | null; ifVersion: number | null; value: number }
  | { op: 'del'; name: string; key: string | null; ifVersion: number | null };

const names = fc.constantFrom('a', 'b', 'c');
const keys = fc.constantFrom(null, 'x', 'y', 'z');
const versions = fc.constantFrom(null, null, 0, 1, 2);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('put' as const), name: names, key: keys, ifVersion: versions, value: fc.constantFrom(0, 7, 42, 99, 123, 999) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), name: names, key: keys, ifVersion: versions }) },
);

/** The live records: name -> its kind and its entries (key '' for a single record) -> version, value. */
type Model = Map<string, { kind: RecordKind; entries: Map<string, { version: number; value: string }> }>;

/** What the rules answer: the version written (put), whether something was deleted (del), or the error. */
type Outcome = { ok: number | boolean } | { error: string; details?: unknown };

function expected(model: Model, o: Op): Outcome {
  try {
    const rec = model.get(o.name);
    if (o.op === 'put') {
      const w = write(o);
      let liveBytes = 0;
      for (const r of model.values()) for (const e of r.entries.values()) liveBytes += valueBytes(e.value);
      const current = rec?.entries.get(o.key ?? '');
      const version = planWrite(w, {
        liveKind: rec?.kind ?? null,
        currentVersion: current?.version ?? 0,
        liveEntries: rec?.entries.size ?? 0,
        liveRecords: model.size,
        currentBytes: current ? valueBytes(current.value) : 0,
        liveBytes: () => liveBytes,
      });
      if (!rec || rec.kind !== w.kind) model.set(o.name, { kind: w.kind, entries: new Map() });
      model.get(o.name)!.entries.set(o.key ?? '', { version, value: w.value });
      return { ok: version };
    }
    if (o.key === null) {
      if (!rec) return { ok: false };
      checkDelete(o.ifVersion, { kind: rec.kind, version: [...rec.entries.values()][0].version }, true);
      model.delete(o.name);
      return { ok: true };
    }
    const entry = rec?.kind === 'multiple' ? rec.entries.get(o.key) : undefined;
    if (!entry) return { ok: false };
    checkDelete(o.ifVersion, { kind: 'multiple', version: entry.version }, false);
    rec!.entries.delete(o.key);
    if (rec!.entries.size === 0) model.delete(o.name);
    return { ok: true };
  } catch (e) {
    if (e instanceof TesseraError) return { error: e.code, details: e.details };
    throw e;
  }
}

function write(o: Extract<Op, { op: 'put' }>): RecordWrite {
  return { name: o.name, key: o.key, kind: o.key === null ? 'single' : 'multiple', value: String(o.value), ttlMs: null,
    ifVersion: o.ifVersion, maxEntries: MAX_ENTRIES, maxRecords: MAX_RECORDS, maxRecordBytes: MAX_BYTES };
}

async function actual(store: SessionStore, id: string, o: Op): Promise<Outcome> {
  try {
    if (o.op === 'put') return { ok: (await store.putRecord(id, write(o))).version };
    return { ok: await store.deleteRecord(id, o.name, o.key, o.ifVersion) };
  } catch (e) {
    if (e instanceof TesseraError) return { error: e.code, details: e.details };
    throw e;
  }
}

function flat(model: Model): [string, string, number, string][] {
  const out: [string, string, number, string][] = [];
  for (const [name, rec] of model) for (const [key, e] of rec.entries) out.push([name, key, e.version, e.value]);
  return out.sort((p, q) => (`${p[0]}\0${p[1]}` < `${q[0]}\0${q[1]}` ? -1 : 1));
}

async function listed(store: SessionStore, id: string): Promise<[string, string, number, string][]> {
  return (await store.listRecords(id)).map((r) => [r.name, r.key ?? '', r.version, r.value] as [string, string, number, string])
    .sort((p, q) => (`${p[0]}\0${p[1]}` < `${q[0]}\0${q[1]}` ? -1 : 1));
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups) await c(); });

for (const engine of Object.keys(ENGINES)) {
  describe(`engine: ${engine}`, () => {
    it(`answers every put and delete as planWrite and checkDelete decide, in and out of a transaction (${runsOf(engine)} sequences)`, async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
      const { store, cleanup } = await ENGINES[engine](clock);
      cleanups.push(async () => { await store.close(); cleanup(); });
      const seed = Number(process.env.TESSERA_FC_SEED ?? Date.now() % 2 ** 31);
      await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 25 }), async (inTransaction, ops) => {
        const now = clock();
        const id = newSessionId();
        await store.createSession({ id, client: 'web', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
          createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null }, hashKey(newSessionKey()));
        const model: Model = new Map();
        if (inTransaction) await store.openTransaction(id, 60_000, 4);
        for (const o of ops) {
          const want = expected(model, o);
          assert.deepEqual(await actual(store, id, o), want, `${JSON.stringify(o)}`);
          assert.deepEqual(await listed(store, id), flat(model), `records after ${JSON.stringify(o)}`);
        }
        if (inTransaction) {
          await store.commitTransaction(id, 60_000);
          assert.deepEqual(await listed(store, id), flat(model), 'committed');
        }
        await store.endSession(id);
      }), { numRuns: runsOf(engine), seed });
      t.diagnostic(`${engine}: seed ${seed} (TESSERA_FC_SEED replays it)`);
    });
  });
}
