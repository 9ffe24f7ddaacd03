import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../../core/errors.js';
import { bodyObject } from '../../core/input.js';
import type { Tessera } from '../../service/tessera.js';
import type { Access } from '../session.js';

/**
 * The Futurama WebAPI routes (docs/protocol.md#xml-soap-and-the-portal-routes), for a trusted portal client (role
 * `portal` or `admin`): keep any session alive or end it by its id alone, in
 * JSON or XML. Answers and errors use Futurama's names: `Message` is
 * "success", or "CODE: message" on failure.
 */
const PORTAL: Access = { roles: ['portal', 'admin'] };

const both = (schema: object) => ({ 'application/json': { schema }, 'application/xml': { schema } });
const body = {
  content: both({
    type: 'object', required: ['sessionID'],
    properties: { sessionID: { type: 'string', description: 'The id of the session (its key is not needed: the portal is trusted).' } },
  }),
};
const failure = {
  description: 'A catalogue error: `Message` is "CODE: message" (SESSION_NOT_FOUND, CLIENT_UNAUTHORIZED, FORBIDDEN, INVALID_REQUEST, ...).',
  content: both({ type: 'object', required: ['Message'], properties: { Message: { type: 'string', examples: ['SESSION_NOT_FOUND: No such session.'] } } }),
};
const errors = { '4XX': failure, '503': failure };

/** Futurama's error shape: the catalogue body `{ error: { code, message } }` becomes `{ Message: "CODE: message" }`. */
function futuramaErrors(_request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void): void {
  const error = (payload as { error?: { code: string; message: string } } | null)?.error;
  done(null, error ? { Message: `${error.code}: ${error.message}` } : payload);
}

/** The schema describes the body; the handler checks it, with the same messages in JSON and XML. */
const unchecked = () => () => true;

function sessionID(request: FastifyRequest): unknown {
  const b = bodyObject(request.body, ['sessionID']);
  if (typeof b.sessionID !== 'string') throw invalid("The body needs 'sessionID', the session's id (a string).", 'sessionID');
  return b.sessionID;
}

export function futuramaRoutes(app: FastifyInstance, tessera: Tessera): void {
  app.post('/rest/webapi/SessionKeepAlive', {
    config: { access: PORTAL },
    preSerialization: futuramaErrors,
    validatorCompiler: unchecked,
    schema: {
      security: [{ client: [] }],
      operationId: 'futuramaSessionKeepAlive',
      summary: 'Keep a session alive by its id (Futurama WebAPI)',
      description: 'Portal or admin clients. Moves the session\'s next timeout as any request would; the key does not change. JSON or XML (root <request>, answer root <response>).',
      tags: ['futurama'],
      body,
      response: {
        200: {
          description: 'Kept alive',
          content: both({
            type: 'object', required: ['Message', 'NextTimeout'],
            properties: { Message: { type: 'string', enum: ['success'] }, NextTimeout: { type: 'string', format: 'date-time' } },
          }),
        },
        ...errors,
      },
    },
  }, async (request) => {
    const { nextTimeout } = await tessera.portalKeepAlive(sessionID(request));
    return { Message: 'success', NextTimeout: nextTimeout };
  });

  app.post('/rest/webapi/SessionEnd', {
    config: { access: PORTAL },
    preSerialization: futuramaErrors,
    validatorCompiler: unchecked,
    schema: {
      security: [{ client: [] }],
      operationId: 'futuramaSessionEnd',
      summary: 'End a session by its id (Futurama WebAPI)',
      description: 'Portal or admin clients. Ends the session as DELETE /v1/session does: transactions roll back, holds are released, cursors close.',
      tags: ['futurama'],
      body,
      response: {
        200: { description: 'Ended', content: both({ type: 'object', required: ['Message'], properties: { Message: { type: 'string', enum: ['success'] } } }) },
        ...errors,
      },
    },
  }, async (request) => {
    await tessera.portalEnd(sessionID(request));
    return { Message: 'success' };
  });
}
