import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { ADMIN } from '../session.js';

type Named = { Params: { name: string } };
type ById = { Params: { id: string } };

/** Section 8's user administration and section 11's per-user session administration: admin clients only. */
export function adminRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: ADMIN };
  const users = tessera.users;

  app.get('/v1/admin/users', { config }, async () => users.list());
  app.get<Named>('/v1/admin/users/:name', { config }, async (request) => users.get(request.params.name));
  app.put<Named>('/v1/admin/users/:name', { config }, async (request) => users.put(request.params.name, request.body));
  app.delete<Named>('/v1/admin/users/:name', { config }, async (request) => users.remove(request.params.name));

  app.get('/v1/admin/sessions', { config }, async (request) => users.sessions(request.query));
  app.delete('/v1/admin/sessions', { config }, async (request) => users.endSessionsOf(request.query));
  app.get<ById>('/v1/admin/sessions/:id', { config }, async (request) => users.session(request.params.id));
  app.delete<ById>('/v1/admin/sessions/:id', { config }, async (request) => users.endSession(request.params.id));
}
