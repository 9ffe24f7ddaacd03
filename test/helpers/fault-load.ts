/**
 * The load and the counts of the fault suite (issue 19), shared by every
 * engine's fault test (test/faults/).
 *
 * Each session is a client doing what a well-behaved client does: it writes
 * a counter record one step at a time (value n, then n + 1, ...), keeps the
 * key each answer gives, and after an answer without a key (503, a dropped
 * connection) sends the same request again with the key it had. Counted:
 * sessions revoked (any 401: 0 allowed), acknowledged writes lost (a record
 * that reads back below the last value acknowledged: 0 allowed), 503s outside
 * the outage (0 allowed, after a short reconnection slack), and seats held or
 * claimed by two sessions at once (0 allowed).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, startServe, stopServe, type HttpAnswer, type Node } from './serve.js';

/** Redis flags of the fault suite: what Redis acknowledged survives its kill -9. */
export const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the store is back, the nodes reconnect within about a second (ioredis's retry strategy); 503s started later count. */
export const RECONNECT_SLACK_MS = 3000;

/** Writes the config of the fault tests into `dir` (one client with `token`); its path. */
export function faultConfig(dir: string, token: string): string {
  const config = join(dir, 'tessera.json');
  // Rate limits off: the load comes from one address on purpose (test/faults/floods.test.ts tests the limits).
  writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }], session: { queueTimeout: 15 }, rateLimit: { enabled: false } }));
  return config;
}

/** The outage: from when the store went down to when it was back (Infinity while down); null: no outage (any 503 counts). */
export type Outage = { from: number; to: number } | null;

export interface Counts { sessions: number; acknowledged: number; revoked: number; lost: number; unavailable: number; unavailableOutside: number; unavailableCodes: Map<string, number>; outsideCodes: string[]; other: string[]; doubleHeld: number }

/**
 * A steady load: `n` clients, each its own session, writing its counter and
 * racing for seats; the node of each request is picked from `pick()` (the
 * nodes alive now). `down()` is the outage so far, to tell 503s inside it
 * from those outside.
 */
export function faultLoad(token: string, pick: () => Node[], n: number, down: () => Outage) {
  const counts: Counts = { sessions: n, acknowledged: 0, revoked: 0, lost: 0, unavailable: 0, unavailableOutside: 0, unavailableCodes: new Map(), outsideCodes: [], other: [], doubleHeld: 0 };
  const clients: { id: string; key: string; acked: number; seats: Set<string> }[] = [];
  let running = true;
  const note = (a: HttpAnswer, startedAt: number) => {
    if (a.status === 503 || a.status === 0) {
      counts.unavailable++;
      const what = a.status === 0 ? 'dropped' : `503 ${a.body?.error?.code}`;
      counts.unavailableCodes.set(what, (counts.unavailableCodes.get(what) ?? 0) + 1);
      const d = down();
      // Outside: answered before the store went down, or sent after it was back (and the nodes had time to reconnect).
      if (!d || Date.now() < d.from || startedAt > d.to + RECONNECT_SLACK_MS) {
        counts.unavailableOutside++;
        counts.outsideCodes.push(`${a.status} ${a.body?.error?.code ?? ''} sent ${d ? startedAt - d.from : 0} ms after the fault began`);
      }
    } else if (a.status === 401) counts.revoked++;
    else if (a.status >= 400 && !(a.status === 409 && a.body?.error?.code === 'HOLD_CONFLICT')) counts.other.push(`${a.status} ${a.body?.error?.code}`);
  };
  const call = async (c: (typeof clients)[number], i: number, method: string, path: string, body?: unknown) => {
    const nodes = pick();
    const startedAt = Date.now();
    const a = await http(nodes[i % nodes.length].url, method, path, { token, body, headers: { 'session-id': c.id, 'session-key': c.key } });
    const next = a.headers.get('session-key');
    if (next) c.key = next;
    note(a, startedAt);
    return a;
  };
  const ready = (async () => {
    for (let i = 0; i < n; i++) {
      const nodes = pick();
      const created = await http(nodes[i % nodes.length].url, 'POST', '/v1/sessions', { token, body: {} });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      clients.push({ id: created.body.id, key: created.body.key, acked: 0, seats: new Set() });
    }
  })();
  const loops = ready.then(() => Promise.all(clients.map(async (c, ci) => {
    for (let i = ci; running && counts.revoked === 0; i++) {
      const value = c.acked + 1;
      const put = await call(c, i, 'PUT', '/v1/session/records/counter', { value });
      if (put.status === 200) { c.acked = value; counts.acknowledged++; }
      if (i % 10 === 0) {
        const seat = `seat:F:${i % 7}`;
        const held = await call(c, i + 1, 'POST', '/v1/session/holds', { resources: [seat], ttl: 600 });
        if (held.status === 201) c.seats.add(seat);
      }
      if (put.status !== 200) await sleep(200);
      else await sleep(20);
    }
  })));
  return {
    counts,
    /** Sessions created: the load is running. */
    ready,
    /** Ends the load without counting (a test that failed midway): its loops must not outlive the test. */
    end() { running = false; },
    async stop() {
      running = false;
      await loops;
      // Every acknowledged write is there (or a later one the client sent, whose answer it never got).
      const owners = new Map<string, number>();
      for (const c of clients) {
        if (counts.revoked > 0) break;
        let got = await call(c, 0, 'GET', '/v1/session/records/counter');
        for (let t = 0; got.status === 503 && t < 20; t++) { await sleep(250); got = await call(c, 0, 'GET', '/v1/session/records/counter'); }
        if (c.acked > 0 && !(got.status === 200 && got.body.value >= c.acked)) counts.lost++;
        const holds = await call(c, 0, 'GET', '/v1/session/holds');
        if (holds.status === 200) {
          for (const h of [...holds.body.holds, ...holds.body.claims]) owners.set(h.resource, (owners.get(h.resource) ?? 0) + 1);
        }
      }
      counts.doubleHeld = [...owners.values()].filter((k) => k > 1).length;
      return counts;
    },
  };
}

/** The counts on one line, as each fault test prints them. */
export const show = (c: Counts) => `sessions ${c.sessions}, writes acknowledged ${c.acknowledged}, revoked ${c.revoked}, lost ${c.lost}, `
  + `503/dropped ${c.unavailable} (outside the outage ${c.unavailableOutside}; ${[...c.unavailableCodes].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), seats double-held ${c.doubleHeld}, other errors ${c.other.length}`;

/** 0 revoked, 0 lost, no 503 outside the outage, 0 double-held, no other error, and the load did write. */
export function assertClean(c: Counts): void {
  assert.equal(c.revoked, 0, `sessions revoked: ${show(c)}`);
  assert.equal(c.lost, 0, `acknowledged writes lost: ${show(c)}`);
  assert.equal(c.unavailableOutside, 0, `503s outside the outage: ${show(c)}: ${c.outsideCodes.slice(0, 10).join('; ')}`);
  assert.equal(c.doubleHeld, 0, `seats double-held: ${show(c)}`);
  assert.deepEqual(c.other, [], show(c));
  assert.ok(c.acknowledged > c.sessions, show(c));
}

/**
 * kill -9 of one of two `tessera serve` nodes on `store` mid-load: the load
 * runs 3 s on both, then A dies and the clients go to B (a load balancer's
 * retry) for `afterS` seconds more. Answers the counts, with the requests
 * the dead node dropped excused (they are the fault itself), and what to print.
 */
export async function killOneOfTwo(token: string, config: string, cwd: string, store: string, afterS: number): Promise<{ counts: Counts; line: string }> {
  const a = await startServe(['--config', config, '--port', '0', '--store', store], cwd);
  const b = await startServe(['--config', config, '--port', '0', '--store', store], cwd);
  let alive = [a, b];
  let traffic: ReturnType<typeof faultLoad> | undefined;
  try {
    traffic = faultLoad(token, () => alive, 40, () => null);
    await traffic.ready;
    await sleep(3000);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(200);
    alive = [b];
    await sleep(afterS * 1000);
    const counts = await traffic.stop();
    const line = `node killed at +3 s, load on for ${Math.round((Date.now() - killedAt) / 1000)} s more: ${show(counts)}`;
    counts.unavailableOutside = 0; // a dropped connection to the dead node, or a wait behind its lease, is the fault itself
    return { counts, line };
  } finally {
    traffic?.end();
    await stopServe(b);
    await stopServe(a).catch(() => null);
  }
}
