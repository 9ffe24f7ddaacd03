/**
 * tessera/express-session with express-session itself, on SQLite in-process
 * and on a Tessera server on Redis: the Store's methods, and two concurrent
 * requests of one session changing different fields (both kept; express-session's
 * MemoryStore loses one, shown here too).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import { TesseraStore } from '../src/middleware/express-session.js';
import { listen, redisServer, sqliteInProcess, type Backend } from './helpers/sites.js';

function app(store: session.Store) {
  const a = express();
  a.use(session({ secret: 'express-session-test-secret', store, resave: false, saveUninitialized: false, cookie: { maxAge: 600_000 } }));
  a.get('/set', async (req, res) => {
    const { field, value, wait } = req.query as Record<string, string>;
    // The session is already loaded; wait so that the other request loads it too before either saves.
    if (wait) await new Promise((r) => setTimeout(r, Number(wait)));
    (req.session as unknown as Record<string, unknown>)[field] = value;
    res.json({ ok: true });
  });
  a.get('/get', (req, res) => void res.json(req.session));
  a.get('/logout', (req, res, next) => req.session.destroy((e) => (e ? next(e) : res.json({ ok: true }))));
  return a;
}

const sidCookie = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))?.split(';')[0];

/** express-session writes the body before its save has finished: wait for the store before the next request. */
const settled = (store: session.Store) => (store instanceof TesseraStore ? store.settled() : Promise.resolve());

async function lostUpdate(url: string, store: session.Store): Promise<Record<string, unknown>> {
  const first = await fetch(`${url}/set?field=start&value=1`);
  const cookie = sidCookie(first)!;
  await settled(store);
  await Promise.all([
    fetch(`${url}/set?field=a&value=A&wait=150`, { headers: { cookie } }),
    fetch(`${url}/set?field=b&value=B&wait=150`, { headers: { cookie } }),
  ]);
  await settled(store);
  return await (await fetch(`${url}/get`, { headers: { cookie } })).json() as Record<string, unknown>;
}

test("express-session's MemoryStore loses one of two concurrent changes of one session (the bug the Tessera store avoids)", async () => {
  const memory = new session.MemoryStore();
  const site = await listen(app(memory));
  try {
    const s = await lostUpdate(site.url, memory);
    assert.ok(!('a' in s && 'b' in s), 'MemoryStore kept both: the test would prove nothing');
  } finally {
    await site.close();
  }
});

for (const make of [sqliteInProcess, redisServer]) {
  describe(`TesseraStore with express-session (${make === sqliteInProcess ? 'SQLite in-process' : 'a Tessera server on Redis'})`, () => {
    let backend: Backend;
    let store: TesseraStore;
    let site: { url: string; close: () => Promise<void> };
    let dir: string;
    before(async () => {
      backend = await make();
      dir = mkdtempSync(join(tmpdir(), 'tessera-xs-'));
      const s = backend.site;
      const common = { directoryFile: join(dir, 'directory.json') };
      store = new TesseraStore('tessera' in s ? { ...common, tessera: s.tessera } : { ...common, url: s.url, token: s.token });
      site = await listen(app(store));
    });
    after(async () => {
      await site?.close();
      await backend?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a session round-trips through express-session; destroy ends it', async () => {
      const first = await fetch(`${site.url}/set?field=user&value=alice`);
      const cookie = sidCookie(first)!;
      await store.settled();
      const got = await (await fetch(`${site.url}/get`, { headers: { cookie } })).json() as Record<string, unknown>;
      assert.equal(got.user, "alice", JSON.stringify(got));
      assert.equal((got.cookie as { originalMaxAge: number }).originalMaxAge, 600_000);
      await fetch(`${site.url}/logout`, { headers: { cookie } });
      await store.settled();
      const after = await (await fetch(`${site.url}/get`, { headers: { cookie } })).json() as Record<string, unknown>;
      assert.equal(after.user, undefined);
    });

    test('two concurrent requests of one session change different fields: both changes are kept', async () => {
      const s = await lostUpdate(site.url, store);
      assert.equal(s.a, 'A');
      assert.equal(s.b, 'B');
      assert.equal(s.start, '1');
    });

    test('get, set, touch, all, length, destroy, clear as express-session documents them', async () => {
      const p = {
        get: promisify(store.get.bind(store)), set: promisify(store.set.bind(store)) as (sid: string, s: session.SessionData) => Promise<void>,
        touch: promisify(store.touch.bind(store)) as (sid: string, s: session.SessionData) => Promise<void>,
        all: promisify(store.all.bind(store)), length: promisify(store.length.bind(store)),
        destroy: promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>, clear: promisify(store.clear.bind(store)) as () => Promise<void>,
      };
      const data = (n: number) => ({ cookie: { originalMaxAge: 60_000, path: '/', httpOnly: true }, n }) as unknown as session.SessionData;
      assert.equal(await p.get('nobody'), null);
      await p.set('s1', data(1));
      await p.set('s2', data(2));
      assert.equal((await p.get('s1') as unknown as { n: number }).n, 1);
      await p.touch('s1', data(1));
      const all = await p.all() as unknown as Record<string, { n: number }>;
      assert.equal(all.s1.n, 1);
      assert.equal(all.s2.n, 2);
      const before = await p.length();
      await p.destroy('s1');
      assert.equal(await p.get('s1'), null);
      assert.equal(await p.length(), before! - 1);
      await p.clear();
      assert.equal(await p.length(), 0);
      assert.equal(await p.get('s2'), null);
    });
  });
}
