/**
 * The hold rules, held to core/holds.ts on every engine. Memory and SQLite
 * call planResourceHolds, planPoolHold and checkConfirm inside their step;
 * the Redis engine's Lua repeats them per resource group (lua/holds/) and
 * asks the planner only for the error of a refusal, so a grant the rules
 * would refuse could pass unseen. Random steps of two sessions (hold
 * resources of two groups, hold units of a pool, release, confirm, time
 * passing past the holds' lifetime) go to the store directly; each answer
 * must be what the pure rules decide on a model, and the live holds listed
 * after must be the model's.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { manualClock } from '../src/core/clock.js';
import { TesseraError } from '../src/core/errors.js';
import {
  checkConfirm, claimOf, planPoolHold, planResourceHolds, type StoredClaim, type StoredHold,
} from '../src/core/holds.js';
import { hashKey, newSessionId, newSessionKey } from '../src/core/keys.js';
import { ENGINES } from './helpers/harness.js';

const TTL = 60_000;
const POOL = 'ev1:pool';
const CAPACITY = 3;
const RESOURCES = ['ev1:a', 'ev1:b', 'ev2:c'] as const;
const runsOf = (engine: string) => (engine.startsWith('redis') ? 200 : 400);

type Op =
  | { op: 'hold'; s: 0 | 1; names: string[] }
  | { op: 'pool'; s: 0 | 1; quantity: number }
  | { op: 'release'; s: 0 | 1; names: string[] | null }
  | { op: 'confirm'; s: 0 | 1; names: string[] | null }
  | { op: 'later' };

const who = fc.constantFrom(0 as const, 1 as const);
const someNames = fc.subarray([...RESOURCES, POOL], { minLength: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('hold' as const), s: who, names: fc.subarray([...RESOURCES, POOL], { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('pool' as const), s: who, quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), s: who, names: fc.option(someNames, { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('confirm' as const), s: who, names: fc.option(someNames, { nil: null }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'later' } as Op) },
);

/** The holds and claims, as the rules see them. */
class Model {
  holds = new Map<string, Map<string, StoredHold>>(); // name -> session -> hold
  claims = new Map<string, Map<string, StoredClaim>>();
  fences = new Map<string, number>();

  constructor(public now: number) {}

  private live(name: string): StoredHold[] {
    return [...this.holds.get(name)?.values() ?? []].filter((h) => h.expiresAt > this.now);
  }

  private own(sid: string): Map<string, StoredHold> {
    const out = new Map<string, StoredHold>();
    for (const [name, m] of this.holds) if (m.has(sid)) out.set(name, m.get(sid)!);
    return out;
  }

  private set(h: StoredHold): void {
    if (!this.holds.has(h.name)) this.holds.set(h.name, new Map());
    this.holds.get(h.name)!.set(h.sessionId, h);
  }

  private drop(h: StoredHold): void {
    this.holds.get(h.name)?.delete(h.sessionId);
  }

  hold(sid: string, names: string[]) {
    const plan = planResourceHolds(names.map((name) => {
      const mine = this.live(name).find((h) => h.sessionId === sid && h.quantity === null) ?? null;
      return {
        name, isPool: name === POOL, claimed: (this.claims.get(name)?.size ?? 0) > 0,
        heldByOther: this.live(name).some((h) => h.sessionId !== sid), mine, fence: this.fences.get(name) ?? 0,
      };
    }), this.now, TTL);
    return plan.map((p) => {
      if (p.fresh) this.fences.set(p.name, p.token);
      this.set({ name: p.name, sessionId: sid, quantity: null, token: p.token, expiresAt: p.expiresAt });
      return { name: p.name, sessionId: sid, quantity: null, token: p.token, expiresAt: p.expiresAt, fresh: p.fresh };
    });
  }

  pool(sid: string, quantity: number) {
    const live = this.live(POOL);
    const mine = live.find((h) => h.sessionId === sid) ?? null;
    const p = planPoolHold({
      name: POOL, capacity: CAPACITY, fence: this.fences.get(POOL) ?? 0,
      heldByOthers: live.filter((h) => h.sessionId !== sid).reduce((n, h) => n + (h.quantity ?? 0), 0),
      claimed: [...this.claims.get(POOL)?.values() ?? []].reduce((n, c) => n + (c.quantity ?? 0), 0),
      mine: mine && { quantity: mine.quantity!, token: mine.token, expiresAt: mine.expiresAt },
    }, quantity, this.now, TTL);
    if (p.fresh) this.fences.set(POOL, p.token);
    this.set({ name: POOL, sessionId: sid, quantity: p.quantity, token: p.token, expiresAt: p.expiresAt });
    return { name: POOL, sessionId: sid, quantity: p.quantity, token: p.token, expiresAt: p.expiresAt, fresh: p.fresh };
  }

  release(sid: string, names: string[] | null) {
    const own = this.own(sid);
    const targets = (names ?? [...own.keys()]).map((n) => own.get(n)).filter((h): h is StoredHold => h !== undefined);
    targets.forEach((h) => this.drop(h));
    return targets.filter((h) => h.expiresAt > this.now).sort((a, b) => (a.name < b.name ? -1 : 1)).map((h) => ({ ...h }));
  }

  confirm(sid: string, names: string[] | null) {
    const ok = checkConfirm(names, this.own(sid), this.now,
      (h) => (this.fences.get(h.name) ?? 0) === h.token && (this.claims.get(h.name)?.size ?? 0) === 0);
    return ok.map((h) => {
      this.drop(h);
      const claim = claimOf(h, this.claims.get(h.name)?.get(sid) ?? null, this.now);
      if (!this.claims.has(h.name)) this.claims.set(h.name, new Map());
      this.claims.get(h.name)!.set(sid, claim);
      return { ...claim };
    });
  }

  listed(): StoredHold[] {
    return [...this.holds.keys()].flatMap((n) => this.live(n)).map((h) => ({ ...h })).sort(holdOrder);
  }
}

const holdOrder = (a: StoredHold, b: StoredHold) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.sessionId < b.sessionId ? -1 : 1);

async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    return { ok: await fn() };
  } catch (e) {
    if (e instanceof TesseraError) return { error: e.code, details: e.details };
    throw e;
  }
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups) await c(); });

let run = 0;

for (const engine of Object.keys(ENGINES)) {
  describe(`engine: ${engine}`, () => {
    it(`grants, refuses, releases and confirms as core/holds.ts decides (${runsOf(engine)} sequences)`, async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 21, 10, 0, 0));
      const { store, cleanup } = await ENGINES[engine](clock);
      cleanups.push(async () => { await store.close(); cleanup(); });
      const seed = Number(process.env.TESSERA_FC_SEED ?? Date.now() % 2 ** 31);
      await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 20 }), async (ops) => {
        // Fresh names for every sequence: holds, fences and claims outlive its sessions.
        const tag = `s${++run}@`;
        const rename = (n: string) => `${tag}${n}`;
        const sids = [newSessionId(), newSessionId()];
        for (const id of sids) {
          const now = clock();
          await store.createSession({ id, client: 'web', rotation: 'per-request', queue: true, idleTimeout: 1800, lifespan: 43200,
            createdAt: now, lastAccessAt: now, nextTimeout: now + 1_800_000, expiresAt: now + 43_200_000, user: null }, hashKey(newSessionKey()));
        }
        await store.setPool(rename(POOL), CAPACITY);
        const model = new Model(clock());
        const real = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll(tag, ''));
        for (const o of ops) {
          if (o.op === 'later') {
            clock.advance(TTL + 1);
            model.now = clock();
            continue;
          }
          const sid = sids[o.s];
          const want = await outcome(() => o.op === 'hold' ? model.hold(sid, o.names)
            : o.op === 'pool' ? model.pool(sid, o.quantity)
              : o.op === 'release' ? model.release(sid, o.names)
                : model.confirm(sid, o.names));
          const names = 'names' in o && o.names ? o.names.map(rename) : null;
          const got = await outcome(() => o.op === 'hold' ? store.holdResources(sid, names!, TTL)
            : o.op === 'pool' ? store.holdPool(sid, rename(POOL), o.quantity, TTL)
              : o.op === 'release' ? store.releaseHolds(sid, names)
                : store.confirmHolds(sid, names));
          assert.deepEqual(real(got), want, JSON.stringify(o));
          const listed = (await store.listHolds(tag, 1000)).sort(holdOrder);
          assert.deepEqual(real(listed), model.listed(), `holds after ${JSON.stringify(o)}`);
        }
        for (const id of sids) await store.endSession(id);
      }), { numRuns: runsOf(engine), seed });
      t.diagnostic(`${engine}: seed ${seed} (TESSERA_FC_SEED replays it)`);
    });
  });
}
