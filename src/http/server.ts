import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { TesseraError } from '../core/errors.js';
import { parseJsonText } from '../core/input.js';
import { isWellFormedId } from '../core/keys.js';
import type { Tessera } from '../service/tessera.js';
import { errorHeaders, sessionHooks } from './session.js';
import { clientAuthenticator } from './clients.js';
import { errorBody, toTesseraError } from './errors.js';
import { openapiOptions } from './openapi.js';
import { rateLimits } from './rate-limit.js';
import { openRoute, sharedSchemas } from './schemas.js';
import { holdRoutes } from './routes/holds.js';
import { recordRoutes } from './routes/records.js';
import { sessionRoutes } from './routes/sessions.js';
import { adminRoutes } from './routes/admin.js';
import { adminPageRoutes } from './routes/admin-page.js';
import { eventRoutes } from './routes/events.js';
import { poolRoutes } from './routes/pools.js';
import { metricsRoutes } from './metrics.js';
import { userRoutes } from './routes/users.js';
import { transactionRoutes } from './routes/transactions.js';
import { futuramaRoutes } from './routes/futurama.js';
import { soapRoutes } from './soap/routes.js';
import { xmlSupport } from './xml/plugin.js';

export interface ServerOptions {
  /** Pino options (level, stream). Off by default. */
  logger?: { level?: string; stream?: NodeJS.WritableStream } | false;
  /** One log line per request: method, route, status, duration, session id (never a key). @default false */
  accessLog?: boolean;
}

/** Log lines name the method and the path only: no query string, no headers, so never a key. */
const serializers = {
  req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
};

/** The HTTP face of a Tessera service. */
export function buildServer(tessera: Tessera, options: ServerOptions = {}): FastifyInstance {
  const config = tessera.config;
  const app = Fastify({
    logger: options.logger ? { ...options.logger, serializers } : false,
    bodyLimit: config.http.bodyLimit,
    // The source address (rate limits, login throttles): the peer's, or the X-Forwarded-For of a trusted proxy.
    trustProxy: config.http.trustProxy === false ? false : [...config.http.trustProxy],
    // Bounds on how long a request may take to arrive: its head, then the whole of it with its body.
    // Node checks them every connectionsCheckingInterval; a request past either gets REQUEST_TIMEOUT below
    // and its connection is closed. A request takes its session's turn only once it has arrived whole
    // (session.ts), so until then it holds nothing but its own connection.
    requestTimeout: config.http.requestTimeout * 1000,
    http: { headersTimeout: config.http.headersTimeout * 1000, connectionsCheckingInterval: 1000 },
    // Fastify's two lines per request are off; the access log below is one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Requests that still arrive while the server drains get SHUTTING_DOWN below, a catalogue body.
    return503OnClosing: false,
    // Fastify's own 404s and parser errors go through our handlers below.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 512 },
    // A request Node's parser refuses (bad framing, headers over 16 KiB) gets a catalogue body too.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return void socket.destroy();
      const code = (err as { code?: string }).code;
      const tooLarge = code === 'HPE_HEADER_OVERFLOW';
      const late = code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const e = late ? new TesseraError('REQUEST_TIMEOUT')
        : new TesseraError('INVALID_REQUEST', tooLarge ? 'The request headers are too large.' : 'The request is malformed.');
      const body = JSON.stringify(errorBody(e));
      const status = late ? '408 Request Timeout' : tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n`
        + `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    // Errors raised before routing (a malformed URL) get a catalogue body too.
    frameworkErrors: (err, _request, reply) => {
      const e = toTesseraError(err);
      (reply as FastifyReply).code(e.status).header('cache-control', 'no-store').send(errorBody(e));
    },
    // The route schemas check input as given: no coercion, no defaults filled in, no properties dropped.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false } },
  });
  // Answers are written as they are (the response schemas are the document's, not a filter).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.register(swagger, openapiOptions);
  const identify = clientAuthenticator(config.clients);
  // First: its hooks see every request (and every error) of every route.
  const metricsRoute = metricsRoutes(app, tessera);

  app.removeAllContentTypeParsers();
  const parseJson = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, parseJsonText(body as string));
    } catch (e) {
      done(e as Error);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string' }, parseJson);
  // XML bodies, and the answer's format chosen as the request arrives: before the hooks below, so their errors come in it too.
  xmlSupport(app);

  sessionHooks(app, tessera, identify);
  const budget = rateLimits(app, config, (...parts) => tessera.users.counterKey(...parts));

  if (options.accessLog) {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url;
      const session = reply.getHeader('session-id') ?? request.headers['session-id'];
      request.log.info({
        method: request.method,
        // The route's pattern (`/v1/session/records/:name`); an unknown one, its path without the query.
        route: route ?? request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        // The session's id (public), when it looks like one; never its key.
        session: isWellFormedId(session) ? session : undefined,
      }, 'request');
      done();
    });
  }

  app.setErrorHandler((err, request, reply) => {
    const { error } = errorHeaders(request, reply, err);
    reply.code(error.status).send(errorBody(error));
  });
  app.setNotFoundHandler((_request, reply) => {
    const e = new TesseraError('NOT_FOUND');
    reply.code(e.status).send(errorBody(e));
  });

  // The routes, in a plugin registered after @fastify/swagger: it sees each route as it is added.
  app.register(async (api) => {
    const open = { tags: ['service'] };
    api.get('/healthz', {
      schema: openRoute({ ...open, operationId: 'health', summary: 'The process is up', response: { 200: { type: 'object', properties: { status: { const: 'ok' } } } } }),
    }, async () => ({ status: 'ok' }));
    api.get('/readyz', {
      schema: openRoute({ ...open, operationId: 'ready', summary: 'The store is reachable (STORE_UNAVAILABLE when not)',
        response: { 200: { type: 'object', properties: { status: { const: 'ready' }, store: { type: 'string' } } } } }),
    }, async () => tessera.ready());
    api.get('/openapi.json', {
      schema: openRoute({ ...open, operationId: 'openapi', summary: 'This document (OpenAPI 3.1)', response: { 200: { type: 'object' } } }),
    }, async () => app.swagger());

    sessionRoutes(api, tessera, budget);
    recordRoutes(api, tessera);
    holdRoutes(api, tessera);
    userRoutes(api, tessera, budget);
    adminRoutes(api, tessera);
    transactionRoutes(api, tessera);
    futuramaRoutes(api, tessera);
    soapRoutes(api, tessera, budget);
    adminPageRoutes(api);
    eventRoutes(api, tessera);
    poolRoutes(api, tessera);
    metricsRoute(api);
  });
  return app;
}
