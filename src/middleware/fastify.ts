/**
 * tessera/fastify: `app.register(tesseraPlugin, { secret, tessera })` (or
 * `{ secret, url, token }`), then `request.tessera` in every handler. The
 * flow is core.ts, the same as the Express middleware's.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import { SiteCore, type TesseraSiteOptions } from './core.js';
import type { SiteSession } from './site-session.js';

export { SiteCore, type TesseraSiteOptions } from './core.js';
export { AccessDenied, SiteSession, type SessionUser, type Hold, type Claim } from './site-session.js';
export type { CookieOptions } from './cookie.js';
export { isTesseraError, TesseraClientError } from '../client/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The visitor's Tessera session for this page (set by the tessera plugin). */
    tessera: SiteSession;
    tesseraCookie?: () => string | null;
  }
}

const plugin: FastifyPluginAsync<TesseraSiteOptions> = async (app, options) => {
  const core = new SiteCore(options);
  app.decorateRequest('tessera', null as unknown as SiteSession);
  app.decorateRequest('tesseraCookie', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const start = await core.start(request.headers.cookie, request.protocol === 'https');
    if (start.kind === 'again') {
      // Another tab of this visitor just changed the key; the browser has the new cookie: come again.
      return reply.code(307).header('location', request.url).header('cache-control', 'no-store').send();
    }
    request.tessera = start.site;
    request.tesseraCookie = start.setCookie;
    reply.raw.once('close', start.done);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const cookie = request.tesseraCookie?.();
    if (cookie) reply.header('set-cookie', cookie);
    return payload;
  });
};

export const tesseraPlugin = fp(plugin, { name: 'tessera', fastify: '5.x' });
export default tesseraPlugin;
