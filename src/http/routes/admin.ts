import type { FastifyInstance } from 'fastify';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import { MAX_SESSION_PAGE, SESSION_PAGE } from '../../core/users.js';
import type { Tessera } from '../../service/tessera.js';
import { clientRoute, message, noBody, object, ref, roleNames, userName, wholeNumber } from '../schemas.js';
import { ADMIN } from '../session.js';

type Named = { Params: { name: string } };
type ById = { Params: { id: string } };

const tags = ['admin'];
const named = object({ name: userName }, ['name']);
const byId = object({ id: { type: 'string', description: 'A session id (anything else is SESSION_NOT_FOUND).' } }, ['id']);
const adminSessions = object({ sessions: { type: 'array', items: ref('AdminSession') }, next: { type: ['string', 'null'] } });

/** The user administration (docs/protocol.md#users-login-and-roles) and the per-user session administration (docs/protocol.md#administration-and-operations): admin clients only. */
export function adminRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: ADMIN };
  const users = tessera.users;

  app.get('/v1/admin/users', {
    config, schema: clientRoute({ operationId: 'listUsers', summary: 'List users', tags, response: { 200: object({ users: { type: 'array', items: ref('User') } }) } }),
  }, async () => users.list());
  app.get<Named>('/v1/admin/users/:name', {
    config, schema: clientRoute({ operationId: 'readUser', summary: 'Read a user', tags, params: named, response: { 200: ref('User') } }),
  }, async (request) => users.get(request.params.name));
  app.put<Named>('/v1/admin/users/:name', {
    config,
    schema: clientRoute({
      operationId: 'putUser', summary: 'Create or change a user', tags, params: named,
      description: "A new user needs a password. A new password ends the user's sessions; new roles reach them at their next request, with a new key.",
      body: object({ password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH }, roles: roleNames }),
      response: { 200: ref('User') },
    }),
  }, async (request) => users.put(request.params.name, request.body));
  app.delete<Named>('/v1/admin/users/:name', {
    config,
    schema: clientRoute({
      operationId: 'deleteUser', summary: 'Remove a user and end its sessions', tags, params: named, body: noBody, bodyOptional: true,
      response: { 200: object({ deleted: { type: 'boolean', const: true }, ended: { type: 'integer' } }) },
    }),
  }, async (request) => users.remove(request.params.name));

  app.get('/v1/admin/sessions', {
    config,
    schema: clientRoute({
      operationId: 'listSessions', summary: 'List live sessions (of one user with ?user=), in id order', tags,
      querystring: object({ user: userName, limit: wholeNumber(MAX_SESSION_PAGE, `Default ${SESSION_PAGE}.`), after: { type: 'string', description: 'The next of the previous page.' } }),
      response: { 200: adminSessions },
    }),
  }, async (request) => users.sessions(request.query));
  app.delete('/v1/admin/sessions', {
    config,
    schema: clientRoute({
      operationId: 'endUserSessions', summary: 'End every session of a user', tags, querystring: object({ user: userName }, ['user']),
      body: noBody, bodyOptional: true, response: { 200: object({ ended: { type: 'integer' } }) },
    }),
  }, async (request) => users.endSessionsOf(request.query));
  app.get<ById>('/v1/admin/sessions/:id', {
    config, schema: clientRoute({ operationId: 'readAdminSession', summary: 'Read a session (does not touch it)', tags, params: byId, response: { 200: ref('AdminSession') } }),
  }, async (request) => users.session(request.params.id));
  app.delete<ById>('/v1/admin/sessions/:id', {
    config,
    schema: clientRoute({ operationId: 'deleteAdminSession', summary: 'End a session', tags, params: byId, body: noBody, bodyOptional: true, response: { 200: message } }),
  }, async (request) => users.endSession(request.params.id));
}
