/**
 * The example box office in Chromium, on Tessera in-process (SQLite) and on
 * a Tessera server on Redis: a visitor's whole evening, two visitors racing
 * for one seat, a cart left to expire, two tabs of one visitor at once, and
 * the back button and reload after checkout. Screenshots: test/artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { createBoxOffice } from '../examples/box-office/app.js';
import { artifact, chromiumSkip, newContext } from './helpers/browser.js';
import { listen, redisServer, SECRET, sqliteInProcess, type Backend } from './helpers/sites.js';

const skip = chromiumSkip('the box office tests');

/** Clicks and waits for the page it leads to; the main document's response. */
async function go(page: Page, selector: string): Promise<Response | null> {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

async function login(page: Page, user = 'alice'): Promise<void> {
  await page.fill('#username', user);
  await page.fill('#password', `${user}-password`);
  await go(page, '#sign-in');
}

async function cartHolds(page: Page): Promise<string[]> {
  return page.$$eval('tr[data-hold]', (rows) => rows.map((r) => r.getAttribute('data-hold')!).sort());
}

async function sessionCookie(context: BrowserContext): Promise<{ id: string; key: string; raw: string } | null> {
  const c = (await context.cookies()).find((k) => k.name === 'tessera');
  if (!c) return null;
  const [id, key] = c.value.split('.');
  return { id, key, raw: c.value };
}

/** No seat was confirmed twice, and no key was ever replayed (no session revoked by a race). */
function assertClean(backend: Backend): void {
  const confirmed = backend.events.filter((e) => e.type === 'hold.confirmed' && e.resource?.startsWith('seat:')).map((e) => e.resource);
  assert.equal(new Set(confirmed).size, confirmed.length, `a seat was sold twice: ${confirmed.join(', ')}`);
  assert.deepEqual(backend.events.filter((e) => e.type === 'security.key_replayed'), [], 'no session key was replayed');
}

for (const make of [sqliteInProcess, redisServer]) {
  describe(`the box office in Chromium (${make.name === 'sqliteInProcess' ? 'Tessera in-process on SQLite' : 'a Tessera server on Redis'})`, { skip }, () => {
    let backend: Backend;
    let site: { url: string; close: () => Promise<void> };
    let shortSite: { url: string; close: () => Promise<void> };
    const contexts: BrowserContext[] = [];
    const open = async () => {
      const c = await newContext();
      contexts.push(c);
      return c;
    };
    let mode = '';

    before(async () => {
      backend = await make();
      mode = backend.name;
      site = await listen(await createBoxOffice({ ...backend.site, secret: SECRET, holdTtl: 600 }));
      shortSite = await listen(await createBoxOffice({ ...backend.site, secret: SECRET, holdTtl: 2 }));
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await site?.close();
      await shortSite?.close();
      await backend?.close();
    });

    test('a visitor browses, holds two seats, logs in (the key changes, the cart stays), pays and sees the tickets; back and reload sell nothing twice', async () => {
      const context = await open();
      const page = await context.newPage();
      await page.goto(site.url);
      await page.screenshot({ path: artifact(`box-office-${mode}-1-events.png`), fullPage: true });
      await go(page, 'a[href="/events/E1"].button');
      await go(page, 'button[data-seat="C5"]');
      await go(page, 'button[data-seat="C6"]');
      assert.match(await page.textContent('.flash') ?? '', /seat 6 is yours/);
      assert.equal(await page.getAttribute('[data-seat="C5"]', 'class'), 'seat mine');
      await page.fill('input[name="quantity"]', '2');
      await go(page, '#standing');
      assert.match(await page.textContent('.flash') ?? '', /2 standing places/);
      await page.screenshot({ path: artifact(`box-office-${mode}-2-seatmap.png`), fullPage: true });
      await go(page, '#cart-link');
      assert.deepEqual(await cartHolds(page), ['ga:E1', 'seat:E1:C5', 'seat:E1:C6']);
      assert.match(await page.textContent('tr[data-hold="ga:E1"]') ?? '', /Standing × 2/);
      await page.screenshot({ path: artifact(`box-office-${mode}-3-cart.png`), fullPage: true });
      const anonymous = await sessionCookie(context);
      await go(page, '#login-to-pay');
      await login(page);
      assert.equal(new URL(page.url()).pathname, '/cart');
      assert.deepEqual(await cartHolds(page), ['ga:E1', 'seat:E1:C5', 'seat:E1:C6'], 'the cart survives the login');
      const named = await sessionCookie(context);
      assert.equal(named!.id, anonymous!.id, 'the same session');
      assert.notEqual(named!.key, anonymous!.key, 'a new key at login (no fixation)');
      assert.match(await page.textContent('.who') ?? '', /alice/);
      await page.screenshot({ path: artifact(`box-office-${mode}-4-cart-signed-in.png`), fullPage: true });
      await go(page, '#checkout');
      assert.equal(new URL(page.url()).pathname, '/tickets');
      const tickets = await page.$$eval('[data-ticket]', (t) => t.map((e) => e.getAttribute('data-ticket')).sort());
      assert.deepEqual(tickets, ['ga:E1', 'seat:E1:C5', 'seat:E1:C6']);
      await page.screenshot({ path: artifact(`box-office-${mode}-5-tickets.png`), fullPage: true });

      // Back to the cart page, reload it, forward again, and post the checkout once more: nothing is sold again.
      await page.goBack();
      assert.equal(new URL(page.url()).pathname, '/cart');
      assert.deepEqual(await cartHolds(page), []);
      await page.reload();
      assert.deepEqual(await cartHolds(page), []);
      await page.goForward();
      await page.reload();
      assert.equal((await page.$$('[data-ticket]')).length, 3);
      const again = await page.evaluate(() => fetch('/checkout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
        .then((r) => new URL(r.url).pathname));
      assert.equal(again, '/cart', 'a second checkout finds nothing to pay');
      await page.goto(`${site.url}/events/E1`);
      assert.equal(await page.getAttribute('[data-seat="C5"]', 'class'), 'seat sold');
      await go(page, '#logout');
      assert.match(await page.textContent('.flash') ?? '', /signed out/);
      assert.equal(await page.$('.who'), null);
      await context.close();
      assertClean(backend);
    });

    test('two visitors click the same seat at once: exactly one gets it, the other sees "just taken"', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      const [pa, pb] = await Promise.all([a.newPage(), b.newPage()]);
      await Promise.all([pa.goto(`${site.url}/events/E2`), pb.goto(`${site.url}/events/E2`)]);
      const [ra, rb] = await Promise.all([go(pa, 'button[data-seat="B3"]'), go(pb, 'button[data-seat="B3"]')]);
      const statuses = [ra!.status(), rb!.status()].sort();
      assert.deepEqual(statuses, [200, 409]);
      const loser = ra!.status() === 409 ? pa : pb;
      const winner = loser === pa ? pb : pa;
      assert.match(await loser.textContent('.flash') ?? '', /Just taken/);
      assert.equal(await loser.getAttribute('[data-seat="B3"]', 'class'), 'seat held');
      assert.equal(await winner.getAttribute('[data-seat="B3"]', 'class'), 'seat mine');
      await loser.screenshot({ path: artifact(`box-office-${mode}-6-just-taken.png`), fullPage: true });
      const held = (await backend.tessera.holds.listAll({ prefix: 'seat:E2:B3' })).holds;
      assert.equal(held.length, 1);
      await Promise.all([a.close(), b.close()]);
      assertClean(backend);
    });

    test('a cart left to expire: the expired page, nothing sold, and a fresh session that works', async () => {
      const context = await open();
      const page = await context.newPage();
      await page.goto(`${shortSite.url}/login`);
      await login(page);
      await page.goto(`${shortSite.url}/events/E3`);
      await go(page, 'button[data-seat="D7"]');
      await go(page, '#cart-link');
      assert.deepEqual(await cartHolds(page), ['seat:E3:D7']);
      const before = await sessionCookie(context);
      await page.waitForSelector('.countdown:text("expired")', { timeout: 10_000 });
      await page.waitForTimeout(300);
      await go(page, '#checkout');
      assert.equal(new URL(page.url()).pathname, '/expired');
      assert.match(await page.textContent('h1') ?? '', /Your cart expired/);
      assert.match(await page.textContent('.expired ul') ?? '', /Row D, seat 7/);
      await page.screenshot({ path: artifact(`box-office-${mode}-7-expired.png`), fullPage: true });
      const fresh = await sessionCookie(context);
      assert.notEqual(fresh!.id, before!.id, 'moved to a fresh session');
      assert.match(await page.textContent('.who') ?? '', /alice/, 'still signed in (transfer keeps the user)');
      await page.goto(`${shortSite.url}/events/E3`);
      assert.equal(await page.getAttribute('[data-seat="D7"]', 'class'), 'seat free', 'the expired seat is back on sale');
      await go(page, 'button[data-seat="D8"]');
      await go(page, '#cart-link');
      assert.deepEqual(await cartHolds(page), ['seat:E3:D8']);
      await go(page, '#checkout');
      assert.equal(new URL(page.url()).pathname, '/tickets');
      assert.deepEqual(await page.$$eval('[data-ticket]', (t) => t.map((e) => e.getAttribute('data-ticket'))), ['seat:E3:D8']);
      assert.equal(backend.events.some((e) => e.type === 'hold.confirmed' && e.resource === 'seat:E3:D7'), false, 'the expired seat was not sold');
      await context.close();
      assertClean(backend);
    });

    test('two tabs of one visitor click at once, and log in while the other clicks: one valid session, nothing lost', async () => {
      const context = await open();
      const [p1, p2] = await Promise.all([context.newPage(), context.newPage()]);
      await p1.goto(`${site.url}/events/E1`);
      await p2.goto(`${site.url}/events/E1`);
      const start = await sessionCookie(context);
      const [r1, r2] = await Promise.all([go(p1, 'button[data-seat="F1"]'), go(p2, 'button[data-seat="F2"]')]);
      assert.deepEqual([r1!.status(), r2!.status()], [200, 200]);
      // Tab 1 logs in (a new key, no grace for the old one) while tab 2 holds a seat with the cookie it had.
      await p1.goto(`${site.url}/login?next=/cart`);
      await p1.fill('#username', 'bob');
      await p1.fill('#password', 'bob-password');
      const redirects: number[] = [];
      p2.on('response', (r) => { if (r.status() === 307) redirects.push(307); });
      const [l1, h2] = await Promise.all([go(p1, '#sign-in'), go(p2, 'button[data-seat="F3"]')]);
      assert.equal(l1!.status(), 200);
      assert.equal(h2!.status(), 200);
      await p2.reload();
      assert.match(await p2.textContent('.who') ?? '', /bob/);
      await p1.goto(`${site.url}/cart`);
      assert.deepEqual(await cartHolds(p1), ['seat:E1:F1', 'seat:E1:F2', 'seat:E1:F3']);
      const end = await sessionCookie(context);
      assert.equal(end!.id, start!.id, 'one session throughout');
      await p1.screenshot({ path: artifact(`box-office-${mode}-8-two-tabs-cart.png`), fullPage: true });
      await context.close();
      assertClean(backend);
      console.log(`# two tabs (${mode}): tab 2 was sent round again ${redirects.length} time(s) while tab 1 logged in`);
    });
  });
}
