import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { SESSION, withSession } from '../session.js';

type CursorParams = { cursor: string };

/** Sections 6 and 7: transactions (a stack of scopes) and cursors. */
export function transactionRoutes(app: FastifyInstance, tessera: Tessera): void {
  const session = { config: { access: SESSION } };
  const t = tessera.transactions;

  app.post('/v1/session/transactions', session, withSession(tessera, async (ctx, request) => t.begin(ctx, request.body)));
  app.post('/v1/session/transactions/commit', session, withSession(tessera, async (ctx, request) => t.commit(ctx, request.body)));
  app.post('/v1/session/transactions/rollback', session,
    withSession(tessera, async (ctx, request) => t.rollback(ctx, request.query as { all?: unknown }, request.body)));

  app.post('/v1/session/cursors', session, withSession(tessera, async (ctx, request, reply) => {
    const opened = await tessera.cursors.open(ctx, request.body);
    reply.code(201);
    return opened;
  }));
  app.get<{ Params: CursorParams }>('/v1/session/cursors/:cursor', session, withSession(tessera, async (ctx, request) =>
    tessera.cursors.page(ctx, (request.params as CursorParams).cursor, request.query as { count?: unknown })));
  app.delete<{ Params: CursorParams }>('/v1/session/cursors/:cursor', session, withSession(tessera, async (ctx, request) =>
    tessera.cursors.close(ctx, (request.params as CursorParams).cursor)));
}
