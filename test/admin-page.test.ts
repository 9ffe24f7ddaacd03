/**
 * The admin page (GET /admin) in a real browser: Debian's Chromium driven by
 * playwright-core, against a `tessera serve` process of its own on SQLite.
 * Outside CI it skips, saying so, when /usr/bin/chromium is missing; in CI
 * (CI=true) that is a failure. The screenshot goes to test/artifacts/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { SseParser, type SseMessage } from '../src/admin/events.js';
import { startServe, type Serving } from './helpers/process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const ADMIN = 'admin-page-test-token-0123456789';
const APP = 'admin-page-test-app-0123456789ab';
const HOLD_TTL = 8;

const noChromium = !existsSync(CHROMIUM);
if (noChromium && process.env.CI === 'true') {
  test('Chromium is installed for the browser tests', () => assert.fail(`${CHROMIUM} is missing (CI must install the chromium package)`));
}
const skip = noChromium ? `SKIPPED: no Chromium at ${CHROMIUM} (install Debian's chromium package to run the admin page test)` : false;

let dir = '';
let server: Serving | null = null;
let context: BrowserContext | null = null;
let page: Page;
const problems: string[] = [];
/** Routes of the operations work (events, pools, claims, metrics) that this server answers 404: the page says so. */
const missing = new Set<string>();

/** A session of the app client whose key rotates on every request. */
class Client {
  constructor(readonly url: string, public id = '', public key = '') {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${APP}` };
    if (this.id) Object.assign(headers, { 'session-id': this.id, 'session-key': this.key });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const next = res.headers.get('session-key');
    if (next) this.key = next;
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  static async create(url: string, user?: string): Promise<Client> {
    const c = new Client(url);
    const created = await c.call('POST', '/v1/sessions', {});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    c.id = created.body.id;
    c.key = created.body.key;
    if (user) assert.equal((await c.call('POST', '/v1/session/login', { username: user, password: `${user}-password-1` })).status, 200);
    return c;
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server!.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Whether a route exists on this server (a stream is closed as soon as its head arrives). */
async function exists(path: string): Promise<boolean> {
  const ac = new AbortController();
  const res = await fetch(`${server!.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: ac.signal });
  ac.abort();
  return res.status !== 404;
}

function onConsole(m: ConsoleMessage): void {
  if (m.type() !== 'error' && m.type() !== 'warning') return;
  const where = m.location().url ?? '';
  // A route of the operations work that this server lacks: the browser reports its 404, the page shows "not available".
  if (/status of 404/.test(m.text()) && [...missing].some((p) => where.includes(p))) return;
  problems.push(`console ${m.type()}: ${m.text()} (${where})`);
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'tessera-admin-page-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({
    clients: [{ id: 'ops', token: ADMIN, roles: ['admin'] }, { id: 'web', token: APP, roles: ['app'] }],
    users: ['alice', 'bob'].map((name) => ({ name, password: `${name}-password-1` })),
    holds: { defaultTtl: HOLD_TTL },
    session: { sweepInterval: 1 },
  }));
  server = await startServe(['--config', join(dir, 'config.json'), '--port', '0', '--store', `sqlite:${join(dir, 'tessera.db')}`],
    { cwd: dir, env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' } });
  for (const path of ['/v1/admin/events', '/v1/admin/pools', '/v1/admin/claims', '/metrics']) if (!(await exists(path))) missing.add(path);
  if (missing.size > 0) console.log(`# admin page: this server lacks ${[...missing].join(', ')}; those steps check the page's "not available" note`);
  const { chromium } = await import('playwright-core');
  context = await chromium.launchPersistentContext(await mkdtemp(join(dir, 'chromium-')), {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1440, height: 1000 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', onConsole);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (r.url().includes(ADMIN)) problems.push(`the token in a URL: ${r.url()}`); });
  page.on('requestfailed', (r) => {
    // The event stream is cut when the page signs out or closes; anything else failing is a problem.
    if (!r.url().includes('/v1/admin/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
});

after(async () => {
  await context?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const row = (attr: string, value: string) => page.locator(`tr[${attr}="${value}"]`);
const feedItem = (type: string, text: string) => page.locator(`#feed li[data-type="${type}"]`, { hasText: text });
const seconds = (text: string | null) => Number(/in (\d+)s/.exec(text ?? '')?.[1] ?? NaN);

test('the admin page in Chromium: sign in, sessions, holds, pools, claims, the live feed', { skip }, async (t) => {
  const url = server!.url;

  await t.test('is served with a strict Content-Security-Policy and no inline script', async () => {
    const res = await page.goto(`${url}/admin`);
    assert.equal(res?.status(), 200);
    const csp = res!.headers()['content-security-policy'];
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), csp);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp));
    const inline = await page.locator('script:not([src])').count();
    assert.equal(inline, 0);
    assert.equal(await page.locator('[style]').count(), 0);
    await page.locator('#login-form').waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-sign-in.png') });
  });

  await t.test('refuses a wrong token, then signs in; the token is in sessionStorage only', async () => {
    const before = problems.length;
    await page.fill('#token', 'not-the-admin-token-000000');
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: 'did not accept' }).waitFor();
    await page.fill('#token', APP);
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: 'lacks the admin role' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    // The browser reports the 401 and 403 it got; those are expected.
    problems.splice(before, problems.length - before, ...problems.slice(before).filter((p) => !/status of 40[13]/.test(p)));

    await page.fill('#token', ADMIN);
    await page.click('#login-submit');
    await page.locator('#app').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.adminToken')), ADMIN);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.ok(!page.url().includes(ADMIN));
    assert.equal(page.url(), `${url}/admin`);
  });

  await t.test('the event feed connects, or says the server has none', async () => {
    if (missing.has('/v1/admin/events')) {
      await page.locator('#feed-empty', { hasText: 'Not available' }).waitFor();
      await page.locator('#conn[data-state="unavailable"]').waitFor();
    } else {
      await page.locator('#conn[data-state="live"]').waitFor();
    }
  });

  let alice: Client;
  await t.test('a session created by the test appears, and is found by its user', async () => {
    const anon = await Client.create(url);
    await row('data-session', anon.id).waitFor();
    alice = await Client.create(url, 'alice');
    await page.fill('#sessions-user', 'alice');
    await page.click('#sessions-form button[type="submit"]');
    await row('data-session', alice.id).waitFor();
    assert.equal(await page.locator('#sessions-table tbody tr').count(), 1);
    assert.match(await row('data-session', alice.id).locator('td').nth(5).textContent() ?? '', /^in \d+m \d\ds$/);
    if (!missing.has('/v1/admin/events')) await feedItem('session.created', alice.id.slice(0, 12)).first().waitFor();
    assert.notEqual(await page.textContent('#count-sessions'), '–');
  });

  await t.test('a hold counts down and expires', async () => {
    assert.equal((await alice.call('POST', '/v1/session/holds', { resources: ['seat:T:1'] })).status, 201);
    const cell = row('data-hold', 'seat:T:1').locator('time');
    await cell.waitFor();
    const first = seconds(await cell.textContent());
    assert.ok(first > 0 && first <= HOLD_TTL, String(first));
    await page.waitForFunction(([sel, n]) => {
      const m = /in (\d+)s/.exec(document.querySelector(sel as string)?.textContent ?? '');
      return m !== null && Number(m[1]) < (n as number);
    }, ['tr[data-hold="seat:T:1"] time', first]);
    // Expired: the countdown says so, and the sweep removes it from the list.
    await row('data-hold', 'seat:T:1').waitFor({ state: 'detached', timeout: (HOLD_TTL + 10) * 1000 });
    if (!missing.has('/v1/admin/events')) await feedItem('hold.expired', 'seat:T:1').waitFor();
  });

  await t.test('ending one session from the page shows session.ended in the feed', async () => {
    const end = row('data-session', alice.id).getByRole('button', { name: 'End' });
    await end.click();
    await row('data-session', alice.id).getByRole('button', { name: 'Confirm end' }).click();
    await row('data-session', alice.id).waitFor({ state: 'detached' });
    await page.locator('#notice', { hasText: 'Ended session' }).waitFor();
    assert.equal((await alice.call('GET', '/v1/session')).status, 401);
    if (!missing.has('/v1/admin/events')) await feedItem('session.ended', alice.id.slice(0, 12)).waitFor();
  });

  await t.test('ending every session of a user', async () => {
    const bobs = [await Client.create(url, 'bob'), await Client.create(url, 'bob')];
    await page.fill('#sessions-user', 'bob');
    await page.click('#sessions-form button[type="submit"]');
    for (const b of bobs) await row('data-session', b.id).waitFor();
    await page.click('#end-user');
    await page.getByRole('button', { name: 'Confirm: end all' }).click();
    await page.locator('#notice', { hasText: 'Ended 2 sessions of bob.' }).waitFor();
    for (const b of bobs) await row('data-session', b.id).waitFor({ state: 'detached' });
    assert.deepEqual((await admin('GET', '/v1/admin/sessions?user=bob')).body.sessions, []);
  });

  let buyer: Client;
  await t.test('pools with capacity and use, and claims', async () => {
    await page.fill('#pool-name', 'ga:T');
    await page.fill('#pool-capacity', '40');
    await page.click('#pool-form button[type="submit"]');
    await page.locator('#notice', { hasText: 'Pool ga:T: capacity 40.' }).waitFor();
    buyer = await Client.create(url, 'alice');
    assert.equal((await buyer.call('POST', '/v1/session/holds', { pool: 'ga:T', quantity: 6, ttl: 600 })).status, 201);
    assert.equal((await buyer.call('POST', '/v1/session/holds', { resources: ['seat:T:7', 'seat:T:8'], ttl: 600 })).status, 201);
    assert.equal((await buyer.call('POST', '/v1/session/holds/confirm', { resources: ['seat:T:8'] })).status, 200);
    assert.equal((await buyer.call('POST', '/v1/session/holds', { resources: ['seat:T:9'], ttl: 900 })).status, 201);
    await row('data-hold', 'ga:T').waitFor();
    await row('data-hold', 'seat:T:7').waitFor();

    if (missing.has('/v1/admin/pools')) {
      await page.locator('#pools-table .unavailable', { hasText: 'GET /v1/admin/pools' }).waitFor();
    } else {
      const pool = row('data-pool', 'ga:T');
      await pool.waitFor();
      const cells = await pool.locator('td').allTextContents();
      assert.match(cells[0], /^ga:T15% in use$/);
      assert.deepEqual(cells.slice(1), ['40', '6', '0', '34']);
    }
    if (missing.has('/v1/admin/claims')) {
      await page.locator('#claims-table .unavailable', { hasText: 'GET /v1/admin/claims' }).waitFor();
      assert.equal(await page.textContent('#count-claims'), 'n/a');
    } else {
      await row('data-claim', 'seat:T:8').waitFor();
      await row('data-claim', 'seat:T:8').getByRole('button', { name: 'Free' }).click();
      await row('data-claim', 'seat:T:8').getByRole('button', { name: 'Confirm free' }).click();
      await row('data-claim', 'seat:T:8').waitFor({ state: 'detached' });
      assert.equal((await buyer.call('POST', '/v1/session/holds', { resources: ['seat:T:8'], ttl: 600 })).status, 201);
      assert.equal((await buyer.call('POST', '/v1/session/holds/confirm', { resources: ['seat:T:8'] })).status, 200);
      await row('data-claim', 'seat:T:8').waitFor();
    }
  });

  await t.test('a screenshot, and no console errors', async () => {
    await page.fill('#sessions-user', '');
    await page.click('#sessions-form button[type="submit"]');
    await row('data-session', buyer.id).waitFor();
    await page.locator('#count-holds', { hasText: '3' }).waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });

  await t.test('signing out forgets the token', async () => {
    await page.click('#sign-out');
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.adminToken')), null);
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#app').isHidden());
    assert.deepEqual(problems, []);
  });
});

test('the page reads Server-Sent Events as the standard says, in chunks split anywhere', () => {
  const stream = ': heartbeat\r\n\r\nid: 7\nevent: session.created\ndata: {"type":"session.created",\ndata: "at":"x"}\n\n'
    + 'retry: 2500\n:ping\n\nevent: hold.expired\r\ndata:{"type":"hold.expired"}\r\n\r\nid: 9\ndata\n\n';
  const whole: SseMessage[] = [];
  const p = new SseParser();
  p.push(stream, (m) => whole.push(m));
  assert.deepEqual(whole, [
    { event: 'session.created', data: '{"type":"session.created",\n"at":"x"}', id: '7' },
    { event: 'hold.expired', data: '{"type":"hold.expired"}', id: '7' },
    { event: 'message', data: '', id: '9' },
  ]);
  assert.equal(p.retry, 2500);
  assert.equal(p.lastId, '9');
  for (let size = 1; size <= 7; size++) {
    const got: SseMessage[] = [];
    const q = new SseParser();
    for (let i = 0; i < stream.length; i += size) q.push(stream.slice(i, i + size), (m) => got.push(m));
    assert.deepEqual(got, whole, `chunks of ${size}`);
  }
});
