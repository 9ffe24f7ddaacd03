/** A small Fastify site on tessera/fastify: the box office's flow in one page (hold, login, pay, tickets). */
import Fastify, { type FastifyInstance } from 'fastify';
import { isTesseraError, tesseraPlugin, type TesseraSiteOptions } from '../../src/middleware/fastify.js';

const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function fastifySite(options: TesseraSiteOptions): Promise<FastifyInstance> {
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  await app.register(tesseraPlugin, options);

  const page = async (t: import('../../src/middleware/fastify.js').SiteSession, note = '') => {
    const { holds, claims } = await t.cart();
    return `<!doctype html><title>Fastify seats</title><h1>Fastify seats</h1>
<p id="who">${t.loggedIn ? `user ${esc(t.user!.name)}` : 'guest'}</p><p id="note">${esc(note)}</p>
<ul id="holds">${holds.map((h) => `<li data-hold="${esc(h.resource)}">${esc(h.resource)}</li>`).join('')}</ul>
<ul id="claims">${claims.map((c) => `<li data-claim="${esc(c.resource)}">${esc(c.resource)}</li>`).join('')}</ul>
<form method="post" action="/hold"><input name="seat" id="seat"><button id="hold">Hold</button></form>
<form method="post" action="/login"><input name="username" id="username"><input name="password" id="password" type="password"><button id="login">Log in</button></form>
<form method="post" action="/checkout"><button id="checkout">Pay</button></form>`;
  };

  app.get('/', async (request, reply) => reply.type('text/html').send(await page(request.tessera)));
  app.post<{ Body: { seat: string } }>('/hold', async (request, reply) => {
    try {
      await request.tessera.hold({ resources: [`seat:F1:${request.body.seat}`] });
    } catch (e) {
      if (isTesseraError(e, 'HOLD_CONFLICT')) return reply.code(409).type('text/html').send(await page(request.tessera, 'just taken'));
      throw e;
    }
    return reply.redirect('/', 303);
  });
  app.post<{ Body: { username: string; password: string } }>('/login', async (request, reply) => {
    await request.tessera.login(request.body.username, request.body.password);
    return reply.redirect('/', 303);
  });
  app.post('/checkout', async (request, reply) => {
    request.tessera.requireRole('customer');
    if ((await request.tessera.cart()).holds.length > 0) await request.tessera.confirm();
    return reply.redirect('/', 303);
  });
  app.setErrorHandler((err, _request, reply) => {
    const status = (err as { status?: number }).status ?? 500;
    reply.code(status).type('text/html').send(`<h1 id="error">${status}</h1>`);
  });
  return app;
}
