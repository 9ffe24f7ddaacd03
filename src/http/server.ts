import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { TesseraError } from '../core/errors.js';
import { bodyObject, checkJsonIntegers, checkJsonValue } from '../core/input.js';
import type { Tessera } from '../service/tessera.js';
import { takeTurn } from './session.js';
import { clientAuthenticator } from './clients.js';
import { errorBody, toTesseraError } from './errors.js';
import { openapi } from './openapi.js';
import { holdRoutes } from './routes/holds.js';
import { recordRoutes } from './routes/records.js';
import { sessionRoutes } from './routes/sessions.js';
import { adminRoutes } from './routes/admin.js';
import { userRoutes } from './routes/users.js';
import { transactionRoutes } from './routes/transactions.js';
import { futuramaRoutes } from './routes/futurama.js';
import { soapRoutes } from './soap/routes.js';
import { xmlSupport } from './xml/plugin.js';

export interface ServerOptions {
  /** Pino options (level, stream). Off by default. */
  logger?: { level?: string; stream?: NodeJS.WritableStream } | false;
  /** One log line per request and response (method, path without query, status). @default false */
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
    requestTimeout: config.http.requestTimeout * 1000,
    logController: new LogController({ disableRequestLogging: !options.accessLog }),
    // Requests that still arrive while the server drains get SHUTTING_DOWN below, a catalogue body.
    return503OnClosing: false,
    // Fastify's own 404s and parser errors go through our handlers below.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 512 },
    // A request Node's parser refuses (bad framing, headers over 16 KiB) gets a catalogue body too.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return void socket.destroy();
      const tooLarge = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify(errorBody(new TesseraError('INVALID_REQUEST', tooLarge ? 'The request headers are too large.' : 'The request is malformed.')));
      socket.end(`HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n`
        + `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    // Errors raised before routing (a malformed URL) get a catalogue body too.
    frameworkErrors: (err, _request, reply) => {
      const e = toTesseraError(err);
      (reply as FastifyReply).code(e.status).header('cache-control', 'no-store').send(errorBody(e));
    },
  });
  const identify = clientAuthenticator(config.clients);

  app.decorateRequest('client', null);

  app.removeAllContentTypeParsers();
  const parseJson = (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (body === '') return done(null, undefined);
    try {
      const value = sjson.parse(body as string, null, { protoAction: 'error', constructorAction: 'error' });
      checkJsonValue(value);
      checkJsonIntegers(body as string);
      done(null, value);
    } catch (e) {
      done(e instanceof TesseraError ? e
        : new TesseraError('INVALID_REQUEST', 'The body is not valid JSON (or holds __proto__ or constructor.prototype keys).'));
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string' }, parseJson);
  // XML bodies, and the answer's format chosen as the request arrives: before the hooks below, so their errors come in it too.
  xmlSupport(app);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    // Every answer, not only /v1 (a request line may carry an absolute URL): nothing here is cacheable.
    reply.header('cache-control', 'no-store');
    if (closing) throw new TesseraError('SHUTTING_DOWN'); // Fastify has set Connection: close
    const access = request.routeOptions.config.access;
    if (!access) return;
    const client = identify(request.headers.authorization);
    if (!access.roles.some((r) => client.roles.includes(r))) throw new TesseraError('FORBIDDEN');
    request.client = client;
    if (access.session) await takeTurn(tessera, request, reply);
  });

  // The turn ends before the answer is written: whoever gets the answer may send the next request at once,
  // to this node or another, and it must find the session free (queue:false) or its line moving.
  // Both hooks in callback style: most requests have nothing to wait for here, and an async hook costs a promise each.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const ended = request.endTurn?.();
    if (ended) ended.then(() => done(null, payload), done);
    else done(null, payload);
  });

  app.addHook('preValidation', (request, _reply, done) => {
    const access = request.routeOptions.config.access;
    try {
      if (access && (access.noBody || request.method === 'DELETE') && request.body !== undefined) bodyObject(request.body, []);
    } catch (e) {
      return done(e as Error);
    }
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const e = toTesseraError(err);
    if (e.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unexpected error');
    if (e.status === 401) for (const h of ['session-id', 'session-key', 'session-expires']) reply.removeHeader(h);
    if (typeof e.details?.retryAfter === 'number') reply.header('retry-after', String(e.details.retryAfter));
    reply.code(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((_request, reply) => {
    const e = new TesseraError('NOT_FOUND');
    reply.code(e.status).send(errorBody(e));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    try {
      await tessera.store.ping();
    } catch {
      throw new TesseraError('STORE_UNAVAILABLE');
    }
    return { status: 'ready', store: tessera.store.kind };
  });
  app.get('/openapi.json', async () => openapi);

  sessionRoutes(app, tessera);
  recordRoutes(app, tessera);
  holdRoutes(app, tessera);
  userRoutes(app, tessera);
  adminRoutes(app, tessera);
  transactionRoutes(app, tessera);
  futuramaRoutes(app, tessera);
  soapRoutes(app, tessera);
  return app;
}
