/**
 * The authenticate decision as a table of cases (inputs -> outcome), run
 * against the pure function (core/authenticate.ts, by test/authenticate.test.ts)
 * and against every engine's `authenticate` step (test/store.test.ts), so the
 * engines, the Redis engine's Lua copy included, answer every case alike.
 *
 * A case is built the same way on both sides: a session created with key k0,
 * optionally logged in as alice (a new key, no grace), `history` requests
 * that each offer a rotation, optionally a role change for alice (pending),
 * then `after` ms, then THE request. Then two probes, with no rotation offered
 * and any client: the key THE request offered, then the key it presented.
 */
import assert from 'node:assert/strict';
import { decideAuthentication, type PendingRoles } from '../../src/core/authenticate.js';
import { hashKey } from '../../src/core/keys.js';
import { rotated, type KeyState, type Rotation, type SessionInfo } from '../../src/core/session.js';
import type { AuthRequest, Authentication, SessionStore } from '../../src/store/contract.js';

export type Answer = 'current' | 'grace' | 'replayed' | 'invalid';

export interface AuthCase {
  name: string;
  rotation: Rotation;
  /** Logged in as alice (roles ['buyer']) after creation. */
  user?: boolean;
  /** Requests before THE request, each offering a rotation (1 s apart). */
  history?: number;
  /** After the history, the current key is presented once with no rotation offered: the client provably has it. */
  seen?: boolean;
  /** An admin changed alice's roles to ['buyer', 'vip'] before THE request (pending for the session). */
  roleChange?: boolean;
  /** Milliseconds between the last step and THE request. @default 1000 */
  after?: number;
  /** The key THE request presents: the current one, the one replaced last, the one before it, or a stranger. */
  present: 'current' | 'previous' | 'older' | 'unknown';
  /** 'other': another client asks; 'any': an admin (client null). @default 'own' */
  client?: 'own' | 'other' | 'any';
  /** THE request offers a rotation. @default true */
  offer?: boolean;
  /** The second probe presents the session's first key (k0) instead of the one THE request presented. */
  probeFirstKey?: boolean;
  expect: {
    outcome: Answer;
    privilegeChanged?: boolean;
    /** The session's roles as answered (accepted outcomes with a user). */
    roles?: string[];
    /** Presenting the offered key next. */
    offered: Answer;
    /** Presenting the same key again next (k0 with probeFirstKey). */
    presented: Answer;
  };
}

/** How long a replaced key stays servable in these cases. */
export const GRACE_MS = 10_000;
/** The sessions' idle timeout (s). */
const IDLE_S = 60;

export const AUTH_CASES: AuthCase[] = [
  { name: 'current key, per request: rotated, the old key in grace', rotation: 'per-request', present: 'current',
    expect: { outcome: 'current', offered: 'current', presented: 'grace' } },
  { name: 'current key, per request, no rotation offered: served, nothing rotated', rotation: 'per-request', present: 'current', offer: false,
    expect: { outcome: 'current', offered: 'invalid', presented: 'current' } },
  { name: 'current key, on privilege change: served, nothing rotated', rotation: 'on-privilege-change', present: 'current',
    expect: { outcome: 'current', offered: 'invalid', presented: 'current' } },
  { name: 'current key after rotations: rotated again', rotation: 'per-request', history: 2, present: 'current',
    expect: { outcome: 'current', offered: 'current', presented: 'grace' } },
  { name: 'on privilege change, after requests: the first key still current', rotation: 'on-privilege-change', history: 2, present: 'current',
    expect: { outcome: 'current', offered: 'invalid', presented: 'current' } },
  { name: 'the key just replaced, within grace: served, nothing rotated', rotation: 'per-request', history: 1, present: 'previous',
    expect: { outcome: 'grace', offered: 'invalid', presented: 'grace' } },
  { name: 'the key just replaced, within grace, no rotation offered', rotation: 'per-request', history: 1, present: 'previous', offer: false,
    expect: { outcome: 'grace', offered: 'invalid', presented: 'grace' } },
  // The replay rule: a key is a replay only when the client provably received its successor (presented it).
  { name: 'the key just replaced, past grace, its successor never presented: served (its answer was lost)', rotation: 'per-request', history: 1, present: 'previous', after: GRACE_MS + 1,
    expect: { outcome: 'grace', offered: 'invalid', presented: 'grace' } },
  { name: 'the key just replaced, long past grace (an outage), its successor never presented: served', rotation: 'per-request', history: 3, present: 'previous', after: 50_000,
    expect: { outcome: 'grace', offered: 'invalid', presented: 'grace' } },
  { name: 'the key just replaced, within grace, its successor presented: served', rotation: 'per-request', history: 1, seen: true, present: 'previous',
    expect: { outcome: 'grace', offered: 'invalid', presented: 'grace' } },
  { name: 'the key just replaced, past grace, its successor presented: a replay, the session revoked', rotation: 'per-request', history: 1, seen: true, present: 'previous', after: GRACE_MS + 1,
    expect: { outcome: 'replayed', offered: 'invalid', presented: 'invalid' } },
  { name: 'the key a login replaced, its successor never presented: a replay (no grace after a privilege change)', rotation: 'per-request', user: true, present: 'previous', after: GRACE_MS + 1,
    expect: { outcome: 'replayed', offered: 'invalid', presented: 'invalid' } },
  { name: 'an older superseded key, within grace of the last: a replay', rotation: 'per-request', history: 2, present: 'older',
    expect: { outcome: 'replayed', offered: 'invalid', presented: 'invalid' } },
  { name: 'an unknown key: invalid, the session untouched', rotation: 'per-request', history: 1, present: 'unknown',
    expect: { outcome: 'invalid', offered: 'invalid', presented: 'invalid' } },
  { name: "another client's session: invalid, untouched", rotation: 'per-request', present: 'current', client: 'other',
    expect: { outcome: 'invalid', offered: 'invalid', presented: 'current' } },
  { name: 'any client (admin): served and rotated', rotation: 'per-request', present: 'current', client: 'any',
    expect: { outcome: 'current', offered: 'current', presented: 'grace' } },
  { name: 'an expired session: invalid', rotation: 'per-request', present: 'current', after: IDLE_S * 1000,
    expect: { outcome: 'invalid', offered: 'invalid', presented: 'invalid' } },
  { name: 'logged in, current key: rotated with grace', rotation: 'per-request', user: true, present: 'current',
    expect: { outcome: 'current', roles: ['buyer'], offered: 'current', presented: 'grace' } },
  { name: 'the key a login replaced (no grace): a replay', rotation: 'per-request', user: true, present: 'previous',
    expect: { outcome: 'replayed', offered: 'invalid', presented: 'invalid' } },
  { name: 'role change, per request, current key: new roles, ONE rotation with no grace', rotation: 'per-request', user: true, roleChange: true, present: 'current',
    expect: { outcome: 'current', privilegeChanged: true, roles: ['buyer', 'vip'], offered: 'current', presented: 'replayed' } },
  { name: 'role change, on privilege change: rotated with no grace', rotation: 'on-privilege-change', user: true, roleChange: true, present: 'current',
    expect: { outcome: 'current', privilegeChanged: true, roles: ['buyer', 'vip'], offered: 'current', presented: 'replayed' } },
  { name: 'role change, the key in grace: answered current, rotated with no grace', rotation: 'per-request', user: true, history: 1, roleChange: true, present: 'previous',
    expect: { outcome: 'current', privilegeChanged: true, roles: ['buyer', 'vip'], offered: 'current', presented: 'replayed' } },
  { name: 'role change after rotations: rotated once with no grace', rotation: 'per-request', user: true, history: 2, roleChange: true, present: 'current',
    expect: { outcome: 'current', privilegeChanged: true, roles: ['buyer', 'vip'], offered: 'current', presented: 'replayed' } },
  // The session remembers REMEMBERED_KEYS (16) superseded keys: here 15 before THE request, so k0 is
  // still remembered after ONE rotation (a replay), and forgotten after two (invalid).
  { name: 'role change with 15 keys remembered: one rotation, so the first key is still known as a replay', rotation: 'per-request',
    user: true, history: 14, roleChange: true, present: 'current', probeFirstKey: true,
    expect: { outcome: 'current', privilegeChanged: true, roles: ['buyer', 'vip'], offered: 'current', presented: 'replayed' } },
  { name: 'role change, no rotation offered: the new roles served, the change still pending', rotation: 'per-request', user: true, roleChange: true, present: 'current', offer: false,
    expect: { outcome: 'current', roles: ['buyer', 'vip'], offered: 'invalid', presented: 'current' } },
  { name: 'role change, an unknown key: invalid, nothing taken', rotation: 'on-privilege-change', user: true, roleChange: true, present: 'unknown',
    expect: { outcome: 'invalid', offered: 'invalid', presented: 'invalid' } },
  { name: 'role change on a superseded key: a replay, not a rotation', rotation: 'per-request', user: true, history: 2, roleChange: true, present: 'older',
    expect: { outcome: 'replayed', offered: 'invalid', presented: 'invalid' } },
];

/** What a case observably did; equal on the pure function and on every engine. */
export interface Observed {
  outcome: Answer;
  privilegeChanged: boolean;
  roles: string[] | null;
  /** lastAccessAt and nextTimeout moved to THE request's time (accepted outcomes). */
  accessRecorded: boolean | null;
  /** The salt answered with a grace outcome (hex). */
  graceSalt: string | null;
  offered: Answer;
  presented: Answer;
}

/** The steps a case needs, as one engine or the pure function performs them. */
export interface AuthSubject {
  now(): number;
  advance(ms: number): void;
  create(session: SessionInfo, keyHash: Buffer): Promise<void>;
  login(id: string, keyHash: Buffer, salt: Buffer): Promise<void>;
  changeRoles(roles: string[]): Promise<void>;
  authenticate(req: AuthRequest): Promise<Authentication>;
}

const salt = (n: number) => Buffer.alloc(16, n);

/** Runs one case on a subject; what it observed. */
export async function runCase(c: AuthCase, s: AuthSubject, id: string): Promise<Observed> {
  const created = s.now();
  const session: SessionInfo = {
    id, client: 'web', rotation: c.rotation, queue: false, idleTimeout: IDLE_S, lifespan: 3600,
    createdAt: created, lastAccessAt: created, nextTimeout: created + IDLE_S * 1000, expiresAt: created + 3600_000, user: null,
  };
  const keys = ['k0']; // the keys that were current, oldest first
  await s.create(session, hashKey('k0'));
  if (c.user) {
    await s.login(id, hashKey('kL'), salt(99));
    keys.push('kL');
  }
  for (let i = 1; i <= (c.history ?? 0); i++) {
    s.advance(1000);
    const current = keys[keys.length - 1];
    const a = await s.authenticate({ id, keyHash: hashKey(current), client: 'web', rotation: { keyHash: hashKey(`k${i}`), salt: salt(i) }, graceMs: GRACE_MS });
    assert.equal(a.outcome, 'current', `history step ${i}`);
    if (c.rotation === 'per-request') keys.push(`k${i}`);
  }
  if (c.seen) {
    const a = await s.authenticate({ id, keyHash: hashKey(keys[keys.length - 1]), client: 'web', rotation: null, graceMs: GRACE_MS });
    assert.equal(a.outcome, 'current', 'the current key presented');
  }
  if (c.roleChange) await s.changeRoles(['buyer', 'vip']);
  s.advance(c.after ?? 1000);
  const at = s.now();
  const presented = c.present === 'unknown' ? 'stranger' : keys[keys.length - 1 - ['current', 'previous', 'older'].indexOf(c.present)];
  assert.ok(presented, `the case has a ${c.present} key`);
  const a = await s.authenticate({
    id, keyHash: hashKey(presented),
    client: c.client === 'other' ? 'shop' : c.client === 'any' ? null : 'web',
    rotation: c.offer === false ? null : { keyHash: hashKey('kN'), salt: salt(50) },
    graceMs: GRACE_MS,
  });
  const accepted = a.outcome === 'current' || a.outcome === 'grace';
  const probe = async (key: string) => (await s.authenticate({ id, keyHash: hashKey(key), client: null, rotation: null, graceMs: GRACE_MS })).outcome;
  return {
    outcome: a.outcome,
    privilegeChanged: a.outcome === 'current' && a.privilegeChanged === true,
    roles: accepted ? a.session.user?.roles ?? null : null,
    accessRecorded: accepted ? a.session.lastAccessAt === at && a.session.nextTimeout === Math.min(at + IDLE_S * 1000, created + 3600_000) : null,
    graceSalt: a.outcome === 'grace' ? a.graceSalt.toString('hex') : null,
    offered: await probe('kN'),
    presented: await probe(c.probeFirstKey ? 'k0' : presented),
  };
}

/** Checks what a case observed against its expectation. */
export function checkCase(c: AuthCase, o: Observed): void {
  const e = c.expect;
  assert.deepEqual(
    { outcome: o.outcome, privilegeChanged: o.privilegeChanged, offered: o.offered, presented: o.presented },
    { outcome: e.outcome, privilegeChanged: e.privilegeChanged ?? false, offered: e.offered, presented: e.presented });
  if (e.roles) assert.deepEqual(o.roles, e.roles);
  if (o.outcome === 'current' || o.outcome === 'grace') assert.equal(o.accessRecorded, true, 'the access is recorded');
  if (o.outcome === 'grace') assert.ok(o.graceSalt, 'a grace answer carries the salt');
}

/** An engine as a subject. */
export function storeSubject(store: SessionStore, clock: { (): number; advance(ms: number): void }): AuthSubject {
  let sessionId = '';
  return {
    now: clock,
    advance: (ms) => clock.advance(ms),
    async create(session, keyHash) {
      sessionId = session.id;
      await store.createSession(session, keyHash);
    },
    async login(id, keyHash, salt) {
      await store.putUser('alice', { passwordHash: 'hash-alice', roles: ['buyer'] });
      const out = await store.loginUser(id, { keyHash, salt }, 'alice', 'hash-alice');
      assert.equal(out.outcome, 'ok');
    },
    async changeRoles(roles) {
      await store.putUser('alice', { roles });
      assert.ok(sessionId);
    },
    authenticate: (req) => store.authenticate(req),
  };
}

/**
 * The pure function as a subject: a model that keeps what the decision says
 * to keep (the contract of AuthDecision), and nothing else.
 */
export function pureSubject(start: number): AuthSubject {
  let now = start;
  let stored: { session: SessionInfo; keys: KeyState } | null = null;
  let pending: PendingRoles | null = null;
  return {
    now: () => now,
    advance: (ms) => { now += ms; },
    async create(session, keyHash) {
      stored = { session: { ...session }, keys: { keyHash, superseded: Buffer.alloc(0), graceUntil: 0, graceSalt: null } };
    },
    async login(_id, keyHash, salt) {
      stored!.keys = rotated(stored!.keys, { keyHash, salt }, 0);
      stored!.session.user = { name: 'alice', roles: ['buyer'] };
    },
    async changeRoles(roles) {
      stored!.session.user = { name: 'alice', roles };
      pending = { name: 'alice', roles };
    },
    async authenticate(req) {
      const d = decideAuthentication({
        stored: stored && stored.session.nextTimeout > now ? stored : null,
        presented: req.keyHash, client: req.client, rotation: req.rotation, graceMs: req.graceMs, now, pending,
      });
      if (d.outcome === 'invalid') return d;
      if (d.outcome === 'replayed') {
        stored = null;
        return d;
      }
      stored = { session: d.session, keys: d.keys ?? stored!.keys };
      if (d.dropPending) pending = null;
      if (d.privilegeChanged) return { outcome: 'current', session: d.session, privilegeChanged: true, scopes: false };
      return d.outcome === 'grace'
        ? { outcome: 'grace', session: d.session, graceSalt: d.graceSalt!, scopes: false }
        : { outcome: 'current', session: d.session, scopes: false };
    },
  };
}
