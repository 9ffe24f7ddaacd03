import type { FastifyInstance } from 'fastify';
import { ROTATIONS } from '../../core/session.js';
import type { Tessera } from '../../service/tessera.js';
import { creatingRoute, endingRoute, message, noBody, object, ref, sessionRoute } from '../schemas.js';
import { APP, createdHeaders, dropSessionHeaders, entered, SESSION } from '../session.js';
import type { BudgetCheck } from '../rate-limit.js';

const tags = ['sessions'];
const seconds = { type: 'integer', minimum: 1, description: 'Seconds; more than the server allows is capped.' };
const time = { type: 'string', format: 'date-time' };

/** docs/protocol.md#lifecycle: create, read, keep alive and end a session. */
export function sessionRoutes(app: FastifyInstance, tessera: Tessera, budget: BudgetCheck): void {
  app.post('/v1/sessions', {
    config: { access: APP, rateLimit: false }, // its own budget instead of every route's
    onRequest: (request) => budget('createSession', request),
    schema: creatingRoute({
      operationId: 'createSession', summary: 'Create a session', tags,
      body: object({ idleTimeout: seconds, lifespan: seconds, rotation: { type: 'string', enum: [...ROTATIONS] }, queue: { type: 'boolean' } }),
      bodyOptional: true,
      response: { 201: ref('CreatedSession') },
    }, 'client'),
  }, async (request, reply) => {
    const created = await tessera.createSession(request.client!, request.body);
    createdHeaders(reply, created);
    return created;
  });

  app.get('/v1/session', {
    config: { access: SESSION },
    schema: sessionRoute({ operationId: 'readSession', summary: 'Read the session', tags, response: { 200: ref('Session') } }),
  }, async (request) => tessera.describe(entered(request)));

  app.post('/v1/session/keepalive', {
    config: { access: SESSION },
    schema: sessionRoute({
      operationId: 'keepAlive', summary: 'Keep the session alive (and every record, with touchRecords)', tags,
      body: object({ touchRecords: { type: 'boolean' } }), bodyOptional: true,
      response: { 200: object({ message: { type: 'string', const: 'success' }, nextTimeout: time }) },
    }),
  }, async (request) => tessera.keepAlive(entered(request), request.body));

  // The session no longer exists once this answers: no key to send next, no id, no timeout.
  app.delete('/v1/session', {
    config: { access: SESSION },
    schema: endingRoute({ operationId: 'endSession', summary: 'End the session', tags, body: noBody, bodyOptional: true, response: { 200: message } }),
  }, async (request, reply) => {
    const ended = await tessera.end(entered(request));
    dropSessionHeaders(reply);
    return ended;
  });
}
