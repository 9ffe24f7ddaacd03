import { TesseraError } from '../../core/errors.js';
import { holdName, planPoolHold, planResourceHolds, type ResourceState } from '../../core/holds.js';
import type { AcquiredHold, PoolUse, SessionStore, StoredClaim, StoredHold } from '../contract.js';
import { BUCKETS, bucketOf, groupOf, type Arg, type RedisConnection, type Reply } from './client.js';
import { decodeClaim, decodeHold } from './codec.js';

export type RedisHoldSteps = Pick<SessionStore, 'holdResources' | 'holdPool' | 'readHolds' | 'renewHolds' | 'releaseHolds'
  | 'confirmHolds' | 'setPool' | 'freeClaims' | 'listHolds' | 'sweepExpiredHolds'
  | 'listPools' | 'getPool' | 'listClaims'>;

export interface RedisHoldsDeps {
  /** The session's next timeout, asked of its own script; null when it is not live. */
  expiryOf(id: string): Promise<number | null>;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Names by group, groups in name order (the order a multi-group step takes them in). */
function byGroup(names: string[]): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const n of names) {
    const g = groupOf(n);
    if (!m.has(g)) m.set(g, []);
    m.get(g)!.push(n);
  }
  return [...m.entries()].sort((a, b) => cmp(a[0], b[0]));
}

/**
 * Holds of the Redis engine. The group's keys decide (one script per group,
 * lua/holds/, KEYS[1] the group's fence);
 * the session's lists of its hold and claim names (`hn`, `cn`, under its own
 * tag) are written after, and are only a way to find them: an entry there
 * whose group says otherwise is dropped when met.
 */
export function redisHolds(r: RedisConnection, deps: RedisHoldsDeps) {
  const margin = String(Math.max(r.marginMs, 86_400_000));
  const fenceKey = (group: string) => r.key(group, 'fence');
  const group = (script: string, g: string, args: Arg[]) => r.run(script, [fenceKey(g)], [r.now(), ...args]);
  const expiryKey = (name: string) => r.key(`x${bucketOf(name)}`, 'hx');
  const scheduleExpiry = (holds: StoredHold[]) => Promise.all(holds.map((h) =>
    r.call(() => r.client.zadd(expiryKey(h.name), h.expiresAt, `${h.name}\n${h.sessionId}`))));
  const sideNames = (id: string, op: 'add' | 'remove', set: 'hn' | 'cn', names: string[]) =>
    names.length === 0 ? Promise.resolve(1) : r.run('holds/names', [r.sessionKey(id)], [r.now(), op, set, ...names]);

  const poolIndex = `${r.prefix}:{pools}:names`;

  /**
   * A pool's capacity and use, read in one MULTI on its group's slot. Held:
   * units of holds live by expiry whose session is not known to be past its
   * timeout (the same hint the scripts use; an exact answer waits for the sweep).
   */
  async function poolUse(name: string, now: number): Promise<PoolUse | null> {
    const g = groupOf(name);
    const res = await r.call(() => r.client.multi()
      .hget(r.key(g, 'pools'), name).hgetall(r.key(g, `h:${name}`)).hgetall(r.key(g, `c:${name}`)).exec());
    const [capacity, holdsOf, claimsOf] = (res ?? []).map(([e, v]) => { if (e) throw e; return v; }) as [string | null, Record<string, string>, Record<string, string>];
    if (capacity === null || capacity === undefined) return null;
    let held = 0;
    for (const v of Object.values(holdsOf)) {
      const [, exp, qty, , sx] = v.split('|');
      if (Number(exp) > now && qty !== '' && !(sx && Number(sx) <= now)) held += Number(qty);
    }
    let claimed = 0;
    for (const v of Object.values(claimsOf)) claimed += Number(v.split('|')[1] || 0);
    const cap = Number(capacity);
    return { name, capacity: cap, held, claimed, free: Math.max(0, cap - held - claimed) };
  }

  async function holdings(id: string): Promise<{ held: string[]; claimed: string[] }> {
    const res: string[] | null = await r.run('holds/holdings', [r.sessionKey(id)], [r.now()]);
    if (!res) throw new TesseraError('SESSION_INVALID');
    const cut = res.indexOf('');
    return { held: res.slice(0, cut), claimed: res.slice(cut + 1) };
  }

  /** One mode of session_holds.lua over the names, group by group. */
  async function perGroup(id: string, mode: 'read' | 'renew' | 'release', names: string[], ttlMs = 0) {
    const answers = await Promise.all(byGroup(names).map(([g, ns]) => group('holds/session_holds', g, [id, mode, ttlMs, margin, ...ns])));
    const rows: { state: string; hold: StoredHold & { announced: boolean } }[] = [];
    for (const a of answers) {
      for (let i = 0; i < a.length; i += 6) {
        rows.push({ state: a[i], hold: {
          name: a[i + 1], sessionId: id, quantity: a[i + 2] === '' ? null : Number(a[i + 2]), token: Number(a[i + 3]),
          expiresAt: Number(a[i + 4]), announced: a[i + 5] === '1',
        } });
      }
    }
    return rows.sort((x, y) => cmp(x.hold.name, y.hold.name));
  }

  /**
   * A refusal named holders whose session may have expired (their recorded
   * expiry passed): each is asked of its session's own script. A dead one
   * joins `dead`, so its holds block nobody on the next try, as on the other
   * engines; a live one's holds on these names get its current expiry. True
   * when one was dead: the step is tried again (at most once per holder).
   */
  async function recheck(lists: string[], names: string[], dead: string[]): Promise<boolean> {
    const suspects = [...new Set(lists.flatMap((l) => (l ? String(l).split(',') : [])))];
    const found = await Promise.all(suspects.map(async (id) => {
      const next = await deps.expiryOf(id);
      if (next === null) return id;
      await Promise.all(byGroup(names).map(([g, ns]) => group('holds/refresh', g, [id, next, ...ns])));
      return null;
    }));
    const more = found.filter((id): id is string => id !== null);
    dead.push(...more);
    return more.length > 0;
  }

  const plain = ({ announced: _a, ...h }: StoredHold & { announced: boolean }): StoredHold => h;

  /** After a grant: the session's list, or (the session ended meanwhile) undo it. */
  async function recordGrant(id: string, granted: StoredHold[]): Promise<void> {
    const ok = await sideNames(id, 'add', 'hn', granted.map((h) => h.name));
    if (Number(ok) !== 1) {
      await perGroup(id, 'release', granted.map((h) => h.name));
      throw new TesseraError('SESSION_INVALID');
    }
    await scheduleExpiry(granted);
  }

  async function readClaims(id: string, names: string[]): Promise<StoredClaim[]> {
    const out: StoredClaim[] = [];
    const gone: string[] = [];
    await Promise.all(byGroup(names).map(async ([g, ns]) => {
      const a = await group('holds/session_claims', g, [id, ...ns]);
      for (let i = 0; i < a.length; i += 2) {
        if (a[i + 1] === '-') gone.push(a[i]);
        else out.push(decodeClaim(a[i], id, String(a[i + 1])));
      }
    }));
    if (gone.length > 0) await sideNames(id, 'remove', 'cn', gone);
    return out.sort((a, b) => cmp(a.name, b.name));
  }

  const steps: RedisHoldSteps = {
    // sx: the session's expiry recorded with its holds; 0 (unknown): a refusal naming it asks its session
    async holdResources(sessionId, names, ttlMs, sx = 0) {
      const groups = byGroup(names);
      const refuse = (answers: Reply[][]) => {
        const states = new Map<string, ResourceState>();
        for (const res of answers) {
          for (let i = 2; i < res.length; i += 7) {
            states.set(res[i], { name: res[i], isPool: res[i + 1] === 1, claimed: res[i + 2] === 1, heldByOther: res[i + 3] === 1,
              mine: res[i + 4] === -1 ? null : { token: res[i + 4], expiresAt: res[i + 5] }, fence: Number(res[i + 6]) });
          }
        }
        planResourceHolds(names.filter((n) => states.has(n)).map((n) => states.get(n)!), 0, ttlMs);
        return new Error('redis: a refused hold passed the rules');
      };
      /** One try, the holds of `dead` sessions blocking nobody: every hold, or the refusing groups' answers (nothing held). */
      const attempt = async (dead: string): Promise<{ held: AcquiredHold[] } | { refused: Reply[][] }> => {
        const args = (ns: string[], dry: string) => [sessionId, ttlMs, margin, dry, sx, dead, ...ns];
        if (groups.length > 1) {
          // Several groups (slots): every group checked first, so a refusal names every conflict.
          const checks = await Promise.all(groups.map(([g, ns]) => group('holds/hold_resources', g, args(ns, '1'))));
          const refused = checks.filter((c) => c[0] === 'reject');
          if (refused.length > 0) return { refused };
        }
        const out = new Map<string, AcquiredHold>();
        const done: [string, string[]][] = [];
        for (const [g, ns] of groups) {
          const res = await group('holds/hold_resources', g, args(ns, '0'));
          if (res[0] === 'reject') {
            // Taken by another node between the check and the grant: undo the groups already held, all or nothing.
            await Promise.all(done.map(([dg, undo]) => group('holds/unhold', dg, [sessionId, ...undo])));
            return { refused: [res] };
          }
          const undo: string[] = [];
          for (let i = 1; i < res.length; i += 6) {
            out.set(res[i], { name: res[i], sessionId, quantity: null, token: Number(res[i + 1]), expiresAt: Number(res[i + 2]), fresh: res[i + 3] === 1 });
            undo.push(res[i], res[i + 4], res[i + 5]);
          }
          done.push([g, undo]);
        }
        return { held: names.map((n) => out.get(n)!) };
      };
      const dead: string[] = [];
      for (;;) {
        const a = await attempt(dead.join(','));
        if ('held' in a) {
          await recordGrant(sessionId, a.held);
          return a.held;
        }
        if (!(await recheck(a.refused.map((res) => res[1]), names, dead))) throw refuse(a.refused);
      }
    },

    async holdPool(sessionId, pool, quantity, ttlMs, sx = 0) {
      const dead: string[] = [];
      let res: Reply;
      do res = await group('holds/hold_pool', groupOf(pool), [sessionId, ttlMs, margin, pool, quantity, sx, dead.join(',')]);
      while (res[0] === 'reject' && await recheck([res[8]], [pool], dead));
      if (res[0] === 'reject') {
        planPoolHold({ name: pool, capacity: res[1] === -1 ? null : res[1], heldByOthers: res[2], claimed: res[3],
          mine: res[4] === -1 ? null : { quantity: res[4], token: res[5], expiresAt: res[6] }, fence: res[7] }, quantity, 0, ttlMs);
        throw new Error('redis: a refused pool hold passed the rules');
      }
      const hold: AcquiredHold = { name: pool, sessionId, quantity: Number(res[1]), token: Number(res[2]), expiresAt: Number(res[3]), fresh: res[4] === 1 };
      await recordGrant(sessionId, [hold]);
      return hold;
    },

    async readHolds(sessionId) {
      const { held, claimed } = await holdings(sessionId);
      const rows = await perGroup(sessionId, 'read', held);
      const dropped = rows.filter((x) => x.state !== 'live').map((x) => x.hold.name);
      if (dropped.length > 0) await sideNames(sessionId, 'remove', 'hn', dropped);
      return {
        live: rows.filter((x) => x.state === 'live').map((x) => plain(x.hold)),
        expired: rows.filter((x) => x.state === 'expired').map((x) => x.hold),
        claims: await readClaims(sessionId, claimed),
      };
    },

    async renewHolds(sessionId, ttlMs) {
      const { held } = await holdings(sessionId);
      const live = (await perGroup(sessionId, 'renew', held, ttlMs)).filter((x) => x.state === 'live').map((x) => plain(x.hold));
      await scheduleExpiry(live);
      return live;
    },

    async releaseHolds(sessionId, names) {
      const { held } = await holdings(sessionId);
      const targets = names ?? held;
      const rows = await perGroup(sessionId, 'release', targets);
      await sideNames(sessionId, 'remove', 'hn', targets);
      return rows.filter((x) => x.state === 'live').map((x) => plain(x.hold));
    },

    async confirmHolds(sessionId, names) {
      const { held } = await holdings(sessionId);
      const targets = names ?? [...held].sort(cmp);
      if (targets.length === 0) throw new TesseraError('HOLDS_EXPIRED', 'This session holds nothing to confirm.', { expired: [] });
      const groups = byGroup(targets);
      const refuse = (failed: Set<string>) => new TesseraError('HOLDS_EXPIRED', undefined, { expired: targets.filter((n) => failed.has(n)) });
      // Every group checked first, so the refusal names every failing hold; then the sale, group by group.
      const checks = await Promise.all(groups.map(([g, ns]) => group('holds/confirm', g, [sessionId, '1', ...ns])));
      const failed = new Set(checks.flatMap((a: string[]) => (a[0] === 'expired' ? a.slice(1) : [])));
      if (failed.size > 0) throw refuse(failed);
      const done: [string, string[]][] = [];
      const claims = new Map<string, StoredClaim>();
      for (const [g, ns] of groups) {
        const a = await group('holds/confirm', g, [sessionId, '0', ...ns]);
        if (a[0] === 'expired') {
          // Another node changed a hold between the check and the sale (a race): undo the groups already sold.
          await Promise.all(done.map(([dg, undo]) => group('holds/unconfirm', dg, [sessionId, margin, ...undo])));
          throw refuse(new Set(a.slice(1)));
        }
        const undo: string[] = [];
        for (let i = 1; i < a.length; i += 4) {
          claims.set(a[i], decodeClaim(a[i], sessionId, String(a[i + 1])));
          undo.push(a[i], a[i + 1], a[i + 2], a[i + 3]);
        }
        done.push([g, undo]);
      }
      await sideNames(sessionId, 'remove', 'hn', targets);
      await sideNames(sessionId, 'add', 'cn', targets);
      // The durable profile: the sale is answered only once the replicas have it (appendfsync always: the primary's
      // replies already follow its fsync). Not acknowledged in time: 503, and the claim may or may not have been kept.
      await r.replicated();
      return targets.map((n) => claims.get(n)!);
    },

    async setPool(name, capacity) {
      const res = await group('holds/set_pool', groupOf(name), [name, capacity]);
      if (res[0] === 'conflict') throw new TesseraError('HOLD_CONFLICT', `'${name}' is held or claimed as a resource.`, { conflicts: [name] });
      // The index of pool names, for the admin listing and the metrics: a second step (a pool is never removed).
      await r.call(() => r.client.sadd(poolIndex, name));
      return { name, capacity, available: Number(res[1]) };
    },

    async listPools(limit) {
      const names = (await r.call(() => r.client.smembers(poolIndex))).sort(cmp).slice(0, limit);
      const now = await r.time();
      return (await Promise.all(names.map((n) => poolUse(n, now)))).filter((p): p is PoolUse => p !== null);
    },

    async getPool(name) {
      return poolUse(name, await r.time());
    },

    async listClaims(prefix, limit) {
      const head = `${r.prefix}:{`;
      const names = new Set<string>();
      for (const key of await r.scan(`${head}*}:c:${prefix}*`)) {
        const close = key.indexOf('}', head.length);
        const name = key.slice(close + 4);
        if (key.slice(close, close + 4) !== '}:c:' || !name.startsWith(prefix) || groupOf(name) !== key.slice(head.length, close)) continue;
        names.add(name);
      }
      const out: StoredClaim[] = [];
      for (const name of [...names].sort(cmp)) {
        if (out.length >= limit) break;
        const all: Record<string, string> = await r.call(() => r.client.hgetall(r.key(groupOf(name), `c:${name}`)));
        for (const sid of Object.keys(all).sort(cmp)) {
          const [token, qty, at] = all[sid].split('|');
          if (out.length < limit) out.push({ name, sessionId: sid, quantity: qty === '' ? null : Number(qty), token: Number(token), confirmedAt: Number(at) });
        }
      }
      return out;
    },

    async freeClaims(name) {
      return Number(await group('holds/free_claims', groupOf(name), [name]));
    },

    async listHolds(prefix, limit) {
      const now = await r.time();
      const head = `${r.prefix}:{`;
      const names = new Set<string>();
      for (const key of await r.scan(`${head}*}:h:${prefix}*`)) {
        const close = key.indexOf('}', head.length);
        const g = key.slice(head.length, close);
        const name = key.slice(close + 4);
        if (key.slice(close, close + 4) !== '}:h:' || !name.startsWith(prefix) || groupOf(name) !== g) continue;
        try { holdName(name); } catch { continue; }
        names.add(name);
      }
      const out: StoredHold[] = [];
      for (const name of [...names].sort(cmp)) {
        if (out.length >= limit) break;
        const all: Record<string, string> = await r.call(() => r.client.hgetall(r.key(groupOf(name), `h:${name}`)));
        for (const sid of Object.keys(all).sort(cmp)) {
          const hold = decodeHold(name, sid, all[sid]);
          if (hold.expiresAt > now && out.length < limit) out.push(hold);
        }
      }
      return out;
    },

    async sweepExpiredHolds(limit) {
      const now = await r.time();
      const out: StoredHold[] = [];
      for (let b = 0; b < BUCKETS && out.length < limit; b++) {
        const key = r.key(`x${b}`, 'hx');
        const due: string[] = await r.call(() => r.client.zrangebyscore(key, '-inf', now, 'LIMIT', 0, limit - out.length));
        await Promise.all(due.map(async (m) => {
          const [name, sid] = m.split('\n');
          const a = await group('holds/announce', groupOf(name), [name, sid]);
          if (a[0] === 'live') await r.call(() => r.client.zadd(key, Number(a[1]), m));
          else await r.call(() => r.client.zrem(key, m));
          if (a[0] === 'expired') out.push({ name, sessionId: sid, quantity: a[1] === '' ? null : Number(a[1]), token: Number(a[2]), expiresAt: Number(a[3]) });
        }));
      }
      return out;
    },
  };

  return {
    steps,

    /** Moves a transferred session's holds and claims to the new session, group by group; its holds keep their expiry. */
    async move(oldId: string, newId: string, held: string[], claimed: string[]): Promise<void> {
      await Promise.all(byGroup([...held, ...claimed]).map(([g]) => {
        const hs = held.filter((n) => groupOf(n) === g);
        const cs = claimed.filter((n) => groupOf(n) === g);
        return group('holds/move', g, [oldId, newId, hs.length, ...hs, ...cs]);
      }));
      // scheduled at 0: the hold sweep reschedules them at their real time
      await Promise.all(held.map((n) => r.call(() => r.client.zadd(expiryKey(n), 0, `${n}\n${newId}`))));
    },

    /** Releases the holds of a session its own script just ended (names from its list). The live ones. */
    async releaseFor(id: string, held: string[]): Promise<StoredHold[]> {
      return (await perGroup(id, 'release', held)).filter((x) => x.state === 'live').map((x) => plain(x.hold));
    },

    /**
     * Releases what rolled-back transactions took (their notes, innermost one
     * first), one script per group, after the session's script dropped the
     * notes; then the session's list. The holds dropped.
     */
    async releaseNoted(id: string, notes: { name: string; token: number; quantity: number | null }[]): Promise<StoredHold[]> {
      if (notes.length === 0) return [];
      const groups = new Set(notes.map((n) => groupOf(n.name)));
      const answers = await Promise.all([...groups].map((g) => group('holds/release_noted', g,
        [id, ...notes.filter((n) => groupOf(n.name) === g).flatMap((n) => [n.name, n.token, n.quantity ?? ''])])));
      const released: StoredHold[] = [];
      for (const a of answers) {
        for (let i = 0; i < a.length; i += 4) {
          released.push({ name: a[i], sessionId: id, quantity: a[i + 1] === '' ? null : Number(a[i + 1]), token: Number(a[i + 2]), expiresAt: Number(a[i + 3]) });
        }
      }
      await sideNames(id, 'remove', 'hn', released.map((h) => h.name));
      return released;
    },
  };
}
