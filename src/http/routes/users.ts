import type { FastifyInstance } from 'fastify';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import type { Tessera } from '../../service/tessera.js';
import { message, noBody, object, ref, roleNames, sessionRoute, userName } from '../schemas.js';
import { entered, rekeyed, SESSION } from '../session.js';
import type { BudgetCheck } from '../rate-limit.js';

const tags = ['users'];

/**
 * docs/protocol.md#users-login-and-roles: login, logout, authorize. Login and logout enter the session
 * without rotating (keepKey): they issue a new key themselves (no grace for
 * the old one), and a failed login (401) must leave the key as it was. The
 * answer carries the key of the context the use case answers.
 */
export function userRoutes(app: FastifyInstance, tessera: Tessera, budget: BudgetCheck): void {
  app.post('/v1/session/login', {
    config: { access: { ...SESSION, keepKey: true }, rateLimit: false }, // its own budget instead of every route's
    onRequest: (request) => budget('login', request),
    schema: sessionRoute({
      operationId: 'login', summary: 'Log in, or in as the anonymous user (a new key, no grace for the old one)', tags,
      description: 'Either `username` and `password`, or `anonymous: true`. 401 LOGIN_FAILED (unknown user or wrong password: one answer, '
        + 'nothing rotated, no session headers); 429 LOGIN_THROTTLED with Retry-After (seconds) after login.maxFailures failures '
        + 'in login.window for the username from this source address or for the session, login.userMaxFailures in login.userWindow '
        + 'for the username from anywhere, or login.sourceMaxFailures in login.sourceWindow from this source address across usernames.',
      body: object({ username: userName, password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH }, anonymous: { type: 'boolean', const: true } }),
      response: { 200: object({ user: ref('SessionUser') }) },
    }),
  }, async (request, reply) => rekeyed(reply, await tessera.users.login(entered(request), request.body, request.ip)));

  app.post('/v1/session/logout', {
    config: { access: { ...SESSION, noBody: true, keepKey: true } },
    schema: sessionRoute({ operationId: 'logout', summary: 'Log out (a new key, no grace)', tags, body: noBody, bodyOptional: true, response: { 200: message } }),
  }, async (request, reply) => rekeyed(reply, await tessera.users.logout(entered(request))));

  app.post('/v1/session/authorize', {
    config: { access: SESSION },
    schema: sessionRoute({
      operationId: 'authorize', summary: 'Does the session user have any of these roles?', tags,
      body: object({ anyOf: roleNames }, ['anyOf']), response: { 200: object({ allowed: { type: 'boolean' } }) },
    }),
  }, async (request) => tessera.users.authorize(entered(request), request.body));
}
