/**
 * tessera/express without a browser, in-process and over HTTP: what the
 * cookie holds and its flags, a forged cookie, an ended session, the
 * anonymous user, requireRole, and the race the rotation choice is about: a
 * login in one tab while another tab's request still carries the old key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { FastifyInstance } from 'fastify';
import { tessera as tesseraMiddleware, type TesseraSiteOptions } from '../src/middleware/express.js';
import { buildServer } from '../src/http/server.js';
import { Tessera, type TesseraEvent } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';
import { listen } from './helpers/sites.js';

const SECRET = 'middleware-test-secret-0123456789';
const TOKEN = 'mw-app-token-0123456789abcdef';
const USERS = [{ name: 'alice', password: 'alice-password', roles: ['customer'] }];

function siteApp(options: TesseraSiteOptions, gate: { reached?: () => void; open?: Promise<void> }) {
  const app = express();
  app.set('trust proxy', true);
  app.use(express.urlencoded({ extended: false }));
  const mw = tesseraMiddleware(options);
  app.use(mw);
  app.get('/page', (req, res) => void res.json({ id: req.tessera.id, user: req.tessera.user, loggedIn: req.tessera.loggedIn }));
  app.post('/login', async (req, res) => {
    gate.reached?.();
    await gate.open;
    await req.tessera.login('alice', 'alice-password');
    res.json({ ok: true });
  });
  app.post('/end', async (req, res) => {
    await req.tessera.end();
    res.json({ ended: true });
  });
  app.get('/customers', mw.requireRole('customer'), (_req, res) => void res.json({ ok: true }));
  app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: String(err) });
  });
  return app;
}

const cookieOf = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith('tessera='));
const valueOf = (setCookie: string) => setCookie.split(';')[0];

for (const mode of ['in-process', 'http'] as const) {
  describe(`tessera/express (${mode})`, () => {
    let tessera: Tessera;
    let server: FastifyInstance | null = null;
    let site: { url: string; close: () => Promise<void> };
    const events: TesseraEvent[] = [];
    const gate: { reached?: () => void; open?: Promise<void> } = {};

    before(async () => {
      tessera = new Tessera({
        store: createMemoryStore(),
        config: mode === 'http' ? { clients: [{ id: 'site', token: TOKEN, roles: ['app'] }], users: USERS } : { users: USERS },
      });
      tessera.events.on('event', (e) => events.push(e));
      let options: TesseraSiteOptions = { secret: SECRET, tessera, anonymous: true };
      if (mode === 'http') {
        server = buildServer(tessera);
        options = { secret: SECRET, url: await server.listen({ host: '127.0.0.1', port: 0 }), token: TOKEN, anonymous: true };
      }
      site = await listen(siteApp(options, gate));
    });
    after(async () => {
      await site.close();
      await server?.close();
      await tessera.close();
    });

    test('the cookie: session id, key and signature only; HttpOnly, SameSite=Lax, Secure over HTTPS only; the anonymous user logged in', async () => {
      const res = await fetch(`${site.url}/page`);
      const set = cookieOf(res)!;
      const body = await res.json() as { id: string; user: { name: string }; loggedIn: boolean };
      const [id, key, mac] = valueOf(set).slice('tessera='.length).split('.');
      assert.equal(id, body.id);
      assert.match(key, /^[A-Za-z0-9_-]{43,}$/);
      assert.match(mac, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(set.split('; ').slice(1).sort(), ['HttpOnly', 'Path=/', 'SameSite=Lax']);
      assert.equal(body.user.name, 'anonymous');
      assert.equal(body.loggedIn, false);
      const https = await fetch(`${site.url}/page`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.ok(cookieOf(https)!.split('; ').includes('Secure'));
      // The same cookie again: nothing changes (on-privilege-change keeps the key), so no Set-Cookie.
      const again = await fetch(`${site.url}/page`, { headers: { cookie: valueOf(set) } });
      assert.equal(cookieOf(again), undefined);
      assert.equal((await again.json() as { id: string }).id, id);
    });

    test('a forged or altered cookie is never presented to Tessera: a fresh session, no replay, nobody revoked', async () => {
      const set = valueOf(cookieOf(await fetch(`${site.url}/page`))!);
      const [name, value] = set.split('=');
      const [id, key, mac] = value.split('.');
      const forged = `${name}=${id}.${key.slice(0, -2)}AA.${mac}`;
      const before = events.length;
      const res = await fetch(`${site.url}/page`, { headers: { cookie: forged } });
      assert.notEqual((await res.json() as { id: string }).id, id);
      assert.equal(events.slice(before).filter((e) => e.type === 'security.key_replayed').length, 0);
      const still = await fetch(`${site.url}/page`, { headers: { cookie: set } });
      assert.equal((await still.json() as { id: string }).id, id, 'the real session is untouched');
    });

    test('an ended session is replaced by a fresh one', async () => {
      const set = valueOf(cookieOf(await fetch(`${site.url}/page`))!);
      const id = set.split('=')[1].split('.')[0];
      await fetch(`${site.url}/end`, { method: 'POST', headers: { cookie: set } });
      const res = await fetch(`${site.url}/page`, { headers: { cookie: set } });
      const fresh = await res.json() as { id: string };
      assert.notEqual(fresh.id, id);
      assert.ok(cookieOf(res)!.includes(fresh.id));
    });

    test('requireRole: 401 for a guest, then allowed once logged in as a customer', async () => {
      const set = valueOf(cookieOf(await fetch(`${site.url}/page`))!);
      assert.equal((await fetch(`${site.url}/customers`, { headers: { cookie: set } })).status, 401);
      const login = await fetch(`${site.url}/login`, { method: 'POST', headers: { cookie: set } });
      const next = valueOf(cookieOf(login)!);
      assert.equal((await fetch(`${site.url}/customers`, { headers: { cookie: next } })).status, 200);
    });

    test('a tab still carrying the key a login just replaced is sent round again (307), never presents it, and the session lives on', async () => {
      const c0 = valueOf(cookieOf(await fetch(`${site.url}/page`))!);
      const reached = new Promise<void>((r) => { gate.reached = r; });
      let open!: () => void;
      gate.open = new Promise<void>((r) => { open = r; });
      const login = fetch(`${site.url}/login`, { method: 'POST', headers: { cookie: c0 } });
      await reached; // tab 1's login is in this process's line for the session
      const other = fetch(`${site.url}/page`, { headers: { cookie: c0 }, redirect: 'manual' }); // tab 2, same old cookie
      await new Promise((r) => setTimeout(r, 50));
      open();
      const c1 = valueOf(cookieOf(await login)!);
      assert.notEqual(c1, c0);
      const round = await other;
      assert.equal(round.status, 307);
      assert.equal(round.headers.get('location'), '/page');
      assert.equal(cookieOf(round), undefined);
      const followed = await fetch(`${site.url}/page`, { headers: { cookie: c1 } });
      const body = await followed.json() as { id: string; user: { name: string } };
      assert.equal(body.id, c0.split('=')[1].split('.')[0], 'the same session');
      assert.equal(body.user.name, 'alice');
      assert.deepEqual(events.filter((e) => e.type === 'security.key_replayed'), [], 'the old key was never presented');
      gate.reached = undefined;
      gate.open = undefined;
    });
  });
}
