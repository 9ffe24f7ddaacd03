import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { SESSION, sessionHeaders, withSession } from '../session.js';

/**
 * Section 8: login, logout, authorize. Login and logout accept the session's
 * credentials without rotating: they issue a new key themselves (no grace for
 * the old one), and a failed login (401) must leave the key as it was. The
 * answer carries the key the use case left in the context, errors included.
 */
export function userRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: SESSION };

  app.post('/v1/session/login', { config }, withSession(tessera, async (ctx, request, reply) => {
    try {
      return await tessera.users.login(ctx, request.body);
    } finally {
      sessionHeaders(reply, ctx);
    }
  }, { rotate: false }));

  app.post('/v1/session/logout', { config: { access: { ...SESSION, noBody: true } } }, withSession(tessera, async (ctx, _request, reply) => {
    const answer = await tessera.users.logout(ctx);
    sessionHeaders(reply, ctx);
    return answer;
  }, { rotate: false }));

  app.post('/v1/session/authorize', { config }, withSession(tessera, async (ctx, request) => tessera.users.authorize(ctx, request.body)));
}
