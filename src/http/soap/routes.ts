import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { Rekeyed, type SessionContext } from '../../service/context.js';
import type { Tessera } from '../../service/tessera.js';
import { APP, errorHeaders, sessionHeaders } from '../session.js';
import { mediaType } from '../xml/plugin.js';
import type { XmlElement } from '../xml/document.js';
import { answerEnvelope, CONTENT_TYPE, faultEnvelope, readEnvelope, soapAction, type SoapVersion } from './envelope.js';
import { OPERATIONS, type Operation } from './operations.js';
import type { BudgetCheck } from '../rate-limit.js';
import { wsdl } from './wsdl.js';

/**
 * POST /soap (SOAP 1.1 as text/xml with SOAPAction, SOAP 1.2 as
 * application/soap+xml) and GET /soap?wsdl. Every operation is one call of
 * the use case its JSON route makes, under the same client token and roles;
 * session-bound ones run in the session's turn, taken once the body has
 * named the session.
 */

declare module 'fastify' {
  interface FastifyRequest {
    soapVersion?: SoapVersion;
  }
}

function versionOf(request: FastifyRequest): SoapVersion {
  return mediaType(request.headers['content-type']) === 'application/soap+xml' ? '1.2' : '1.1';
}

/** Every answer of /soap, the errors raised before the operation ran included (token, role, body), is an envelope. */
function soapAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const version = versionOf(request);
  request.soapVersion = version;
  reply.type(CONTENT_TYPE[version]);
  reply.serializer((payload: unknown) => {
    reply.type(CONTENT_TYPE[version]); // again: Fastify drops the content type of a reply that became an error
    if (typeof payload === 'string') return payload;
    const error = (payload as { error?: { code: string; message: string; details?: Record<string, unknown> } } | null)?.error;
    const e = error ? new TesseraError(error.code as TesseraError['code'], error.message, error.details) : new TesseraError('INTERNAL_ERROR');
    return faultEnvelope(version, e);
  });
}

/** The action a request names: SOAP 1.1's SOAPAction header, or SOAP 1.2's action parameter. Null when it names none. */
function actionOf(request: FastifyRequest, version: SoapVersion): string | null {
  const raw = version === '1.1'
    ? request.headers.soapaction
    : /;\s*action\s*=\s*"?([^";]*)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (typeof raw !== 'string') return null;
  const action = raw.trim().replace(/^"(.*)"$/, '$1');
  return action === '' ? null : action;
}

/** The URL this request reached the server by, for the WSDL's soap:address. */
function ownUrl(request: FastifyRequest): string {
  const host = request.headers.host ?? '';
  if (!/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)) {
    throw new TesseraError('INVALID_REQUEST', 'The Host header is missing or malformed.', { field: 'Host' });
  }
  return `${request.protocol}://${host}/soap`;
}

const xml = (description: string) => ({ description, content: { 'text/xml': { schema: { type: 'string' } }, 'application/soap+xml': { schema: { type: 'string' } } } });

export function soapRoutes(app: FastifyInstance, tessera: Tessera, budget: BudgetCheck): void {
  app.get('/soap', {
    schema: {
      security: [],
      operationId: 'soapWsdl',
      summary: 'The WSDL of the SOAP endpoint',
      description: 'GET /soap?wsdl: WSDL 1.1, document/literal, with an XSD element for every message, a SOAP 1.1 and a SOAP 1.2 binding; '
        + 'soap:address is the URL the request reached. Needs no token, like /openapi.json.',
      tags: ['soap'],
      querystring: { type: 'object', properties: { wsdl: { type: 'string' } } },
      response: {
        200: { description: 'The WSDL', content: { 'text/xml': { schema: { type: 'string' } } } },
        400: { description: 'INVALID_REQUEST: no ?wsdl, or a malformed Host header', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  }, async (request, reply) => {
    const query = request.url.split('?')[1] ?? '';
    if (!/^wsdl(=|&|$)/i.test(query)) throw new TesseraError('INVALID_REQUEST', 'GET /soap?wsdl serves the WSDL; operations are POSTed to /soap.');
    reply.type('text/xml; charset=utf-8');
    return wsdl(ownUrl(request));
  });

  app.post('/soap', {
    config: { access: APP, xmlDocument: true, answer: soapAnswer },
    // The schema describes the media types; the envelope is checked against the operations' table, with Faults.
    validatorCompiler: () => () => true,
    schema: {
      security: [{ client: [] }],
      operationId: 'soap',
      summary: 'SOAP 1.1 and 1.2 endpoint (17 operations)',
      description: 'SOAP 1.1: `text/xml` with a `SOAPAction` header; SOAP 1.2: `application/soap+xml` (an `action` parameter is checked when given). '
        + `Operations: ${OPERATIONS.map((o) => o.name).join(', ')}. The WSDL at GET /soap?wsdl describes every message. `
        + 'Errors are Faults whose detail <TesseraFault> holds the catalogue Code; a SOAP 1.1 Fault of an operation has status 500, a SOAP 1.2 Fault the catalogue status. '
        + 'Refusals before the envelope is read (token 401, role 403, size 413, media type 415, malformed XML 400) keep their status, with a Fault body.',
      tags: ['soap'],
      body: { content: { 'text/xml': { schema: { type: 'string' } }, 'application/soap+xml': { schema: { type: 'string' } } } },
      response: { 200: xml('The operation\'s answer envelope'), '4XX': xml('A Fault'), '5XX': xml('A Fault (SOAP 1.1: every Fault of an operation)') },
    },
  }, async (request, reply) => {
    const version = request.soapVersion ?? versionOf(request);
    let ctx: SessionContext | null = null;
    try {
      const media = mediaType(request.headers['content-type']);
      if (media !== 'text/xml' && media !== 'application/soap+xml') {
        throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', 'SOAP 1.1 is sent as text/xml, SOAP 1.2 as application/soap+xml.');
      }
      const { operation, input } = readEnvelope(request.body as XmlElement | undefined, version);
      const action = actionOf(request, version);
      if (action !== null && action !== soapAction(operation.name) && action !== operation.name) {
        throw new TesseraError('INVALID_REQUEST', `The SOAP action '${action.slice(0, 80)}' does not name the operation in the Body (${soapAction(operation.name)}).`);
      }
      if (operation.budget) await budget(operation.budget, request); // the JSON route's budget, counted alike
      const result = await run(tessera, request, operation, input, (c) => {
        ctx = c;
        sessionHeaders(reply, c);
      });
      if (ctx) sessionHeaders(reply, ctx);
      if (!operation.session || operation.name === 'TransferSession') {
        // A new session's credentials in the headers too, as POST /v1/sessions and /v1/session/transfer give them.
        reply.header('session-id', result.SessionId).header('session-key', result.SessionKey).header('session-expires', result.NextTimeout);
      }
      return answerEnvelope(version, operation, result);
    } catch (err) {
      const { error: e, next } = errorHeaders(request, reply, err, ctx);
      // SOAP 1.1 sends every Fault with 500; SOAP 1.2 with the status of the error (Sender: 4xx).
      reply.code(version === '1.1' ? 500 : e.status);
      return faultEnvelope(version, e, next?.key);
    }
  });
}

/** Runs one operation: in the session's turn, with its credentials accepted, when it is session-bound. */
async function run(tessera: Tessera, request: FastifyRequest, operation: Operation, input: Record<string, unknown>,
  accepted: (ctx: SessionContext) => void): Promise<Record<string, unknown>> {
  const client = request.client!;
  if (!operation.session) {
    const result = await operation.run({ tessera, client, input, source: request.ip }, null);
    return result instanceof Rekeyed ? result.answer : result;
  }
  const id = input.SessionId as string;
  const release = await tessera.takeTurn(client, id);
  try {
    let ctx = await tessera.enter(client, id, input.SessionKey, { rotate: operation.session.rotate });
    accepted(ctx);
    const outcome = await operation.run({ tessera, client, input, source: request.ip }, ctx);
    let result = outcome as Record<string, unknown>;
    if (outcome instanceof Rekeyed) {
      // Login and logout answer the session's new context: its key is the one to send next.
      ctx = outcome.ctx;
      accepted(ctx);
      result = outcome.answer;
    }
    return operation.output.some((f) => f.name === 'SessionKey') && result.SessionKey === undefined ? { SessionKey: ctx.key, ...result } : result;
  } finally {
    await release?.();
  }
}
