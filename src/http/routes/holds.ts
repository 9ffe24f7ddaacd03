import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { ADMIN, SESSION, withSession } from '../session.js';

type Named = { resource: string };

/** Sections 9 and 10: holds, the sale, transfer; and the admin routes of pools, claims and holds. */
export function holdRoutes(app: FastifyInstance, tessera: Tessera): void {
  const session = { config: { access: SESSION } };
  const admin = { config: { access: ADMIN } };

  app.post('/v1/session/holds', session, withSession(tessera, async (ctx, request, reply) => {
    const result = await tessera.holds.hold(ctx, request.body);
    reply.code(201);
    return result;
  }));
  app.get('/v1/session/holds', session, withSession(tessera, async (ctx) => tessera.holds.list(ctx)));
  app.post('/v1/session/holds/renew', session, withSession(tessera, async (ctx, request) => tessera.holds.renew(ctx, request.body)));
  app.post('/v1/session/holds/confirm', session, withSession(tessera, async (ctx, request) => tessera.holds.confirm(ctx, request.body)));
  app.delete('/v1/session/holds', session, withSession(tessera, async (ctx) => tessera.holds.release(ctx)));
  app.delete<{ Params: Named }>('/v1/session/holds/:resource', session,
    withSession(tessera, async (ctx, request) => tessera.holds.release(ctx, (request.params as Named).resource)));

  app.post('/v1/session/transfer', { config: { access: { ...SESSION, noBody: true } } }, withSession(tessera, async (ctx, _request, reply) => {
    const created = await tessera.transfer(ctx);
    reply.header('session-id', created.id).header('session-key', created.key).header('session-expires', created.nextTimeout);
    reply.code(201);
    return created;
  }));

  app.put<{ Params: { name: string } }>('/v1/admin/pools/:name', admin,
    async (request) => tessera.holds.setPool((request.params as { name: string }).name, request.body));
  app.delete<{ Params: Named }>('/v1/admin/claims/:resource', admin,
    async (request) => tessera.holds.freeClaim((request.params as Named).resource));
  app.get('/v1/admin/holds', admin, async (request) => tessera.holds.listAll(request.query as { prefix?: unknown; limit?: unknown }));
}
