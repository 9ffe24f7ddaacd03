/**
 * tessera/fastify in Chromium: the same flow as the box office (hold two
 * seats as a guest, log in, pay, see the claims; a second visitor meets
 * "just taken"), on SQLite in-process and on a Tessera server on Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { artifact, chromiumSkip, newContext } from './helpers/browser.js';
import { fastifySite } from './helpers/fastify-site.js';
import { redisServer, SECRET, sqliteInProcess, type Backend } from './helpers/sites.js';

const skip = chromiumSkip('the Fastify plugin test');

async function go(page: Page, selector: string) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response!;
}

for (const make of [sqliteInProcess, redisServer]) {
  describe(`tessera/fastify in Chromium (${make === sqliteInProcess ? "Tessera in-process on SQLite" : "a Tessera server on Redis"})`, { skip }, () => {
    let backend: Backend;
    let app: FastifyInstance;
    let url: string;
    before(async () => {
      backend = await make();
      const s = backend.site;
      app = await fastifySite('tessera' in s ? { secret: SECRET, tessera: s.tessera, anonymous: true }
        : { secret: SECRET, url: s.url, token: s.token, anonymous: true });
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app?.close();
      await backend?.close();
    });

    test('hold two seats as a guest, log in (new key, same cart), pay, see the claims; a second visitor finds them taken', async () => {
      const context = await newContext();
      const other = await newContext();
      try {
        const page = await context.newPage();
        await page.goto(url);
        assert.equal(await page.textContent('#who'), 'guest');
        const cookie = (await context.cookies()).find((c) => c.name === 'tessera')!;
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Lax');
        for (const seat of ['A1', 'A2']) {
          await page.fill('#seat', seat);
          await go(page, '#hold');
        }
        assert.deepEqual(await page.$$eval('[data-hold]', (l) => l.map((e) => e.getAttribute('data-hold'))), ['seat:F1:A1', 'seat:F1:A2']);
        const otherPage = await other.newPage();
        await otherPage.goto(url);
        await otherPage.fill('#seat', 'A2');
        assert.equal((await go(otherPage, '#hold')).status(), 409);
        assert.equal(await otherPage.textContent('#note'), 'just taken');
        assert.equal((await go(page, '#checkout')).status(), 401, 'paying needs a named user');
        await page.goto(url);
        await page.fill('#username', 'alice');
        await page.fill('#password', 'alice-password');
        await go(page, '#login');
        assert.equal(await page.textContent('#who'), 'user alice');
        const after = (await context.cookies()).find((c) => c.name === 'tessera')!;
        assert.equal(after.value.split('.')[0], cookie.value.split('.')[0]);
        assert.notEqual(after.value.split('.')[1], cookie.value.split('.')[1]);
        await go(page, '#checkout');
        assert.deepEqual(await page.$$eval('[data-claim]', (l) => l.map((e) => e.getAttribute('data-claim'))), ['seat:F1:A1', 'seat:F1:A2']);
        assert.deepEqual(await page.$$eval('[data-hold]', (l) => l.length), 0);
        await page.screenshot({ path: artifact(`fastify-site-${backend.name}.png`) });
        await page.reload();
        await go(page, '#checkout');
        const confirmed = backend.events.filter((e) => e.type === 'hold.confirmed').map((e) => e.resource);
        assert.deepEqual(confirmed.sort(), ['seat:F1:A1', 'seat:F1:A2']);
        assert.equal(backend.events.some((e) => e.type === 'security.key_replayed'), false);
      } finally {
        await context.close();
        await other.close();
      }
    });
  });
}
