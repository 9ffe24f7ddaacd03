import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { APP, SESSION, withSession } from '../session.js';

/** Section 3: create, read, keep alive and end a session. */
export function sessionRoutes(app: FastifyInstance, tessera: Tessera): void {
  app.post('/v1/sessions', { config: { access: APP } }, async (request, reply) => {
    const created = await tessera.createSession(request.client!, request.body);
    reply.header('session-id', created.id).header('session-key', created.key).header('session-expires', created.nextTimeout);
    reply.code(201);
    return created;
  });

  app.get('/v1/session', { config: { access: SESSION } }, withSession(tessera, async (ctx) => tessera.describe(ctx)));

  app.post('/v1/session/keepalive', { config: { access: SESSION } },
    withSession(tessera, async (ctx, request) => tessera.keepAlive(ctx, request.body)));

  app.delete('/v1/session', { config: { access: SESSION } }, withSession(tessera, async (ctx) => tessera.end(ctx)));
}
