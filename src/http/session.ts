import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { iso } from '../core/clock.js';
import type { ClientRole } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { acceptedContext, type Client, type Rekeyed, type SessionContext } from '../service/context.js';
import { toTesseraError } from './errors.js';
import type { Release, Tessera } from '../service/tessera.js';

/**
 * What every route needs, written once, as hooks around the handlers:
 *
 *   onRequest    Cache-Control, SHUTTING_DOWN while draining; the client by
 *                its token and the route's roles
 *   (body)       read whole, within http.requestTimeout and http.bodyLimit:
 *                a slow or absent body holds only its own connection
 *   preValidation  a session-bound request takes its turn in the session's
 *                line (the request has arrived whole); no body reads as {}
 *                for routes with a body schema
 *   (validation) the route's schema; the error is attached, not thrown
 *   preHandler   a session route enters its session (one service call:
 *                tessera.enter) and puts the session headers on the reply;
 *                then a validation error is thrown, so a request with bad
 *                credentials and bad input meets the credentials first
 *   handler      one service call (routes/*)
 *   onSend       the turn ends before the answer is written
 *
 * The route declares what it needs in `config.access`.
 */

/** What a route needs: which client roles may call it, and whether it is session-bound. */
export interface Access {
  roles: readonly ClientRole[];
  session?: boolean;
  /** The route takes no body (as every DELETE): one with properties is refused before the session is entered. */
  noBody?: boolean;
  /** Enter without rotating the key (login, logout: they change it themselves, or not at all when they fail). */
  keepKey?: boolean;
  /** The handler enters the session itself (a record PUT: in the same store step as the write). */
  entersItself?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** Ends this request's turn in its session's line (docs/protocol.md#serialized-requests), if it took one. */
    endTurn?: () => void | Promise<void>;
    client: Client | null;
    /** The session this request entered (session routes). */
    ctx: SessionContext | null;
  }
}

export const APP: Access = { roles: ['app', 'admin'] };
export const SESSION: Access = { roles: ['app', 'admin'], session: true };
export const ADMIN: Access = { roles: ['admin'] };

/** Registers the hooks above on `app`. `identify` recognises the client by its Authorization header. */
export function sessionHooks(app: FastifyInstance, tessera: Tessera, identify: (authorization: string | undefined) => Client): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.decorateRequest('client', null);
  app.decorateRequest('ctx', null);

  // Every route validates through its schema, but the error waits for the preHandler below.
  app.addHook('onRoute', (route) => {
    route.attachValidation = true;
  });

  // In callback style, as the hooks below: an async hook costs a promise on every request.
  app.addHook('onRequest', (request, reply, done) => {
    // Every answer, not only /v1 (a request line may carry an absolute URL): nothing here is cacheable.
    reply.header('cache-control', 'no-store');
    if (closing) return done(new TesseraError('SHUTTING_DOWN')); // Fastify has set Connection: close
    const access = request.routeOptions.config.access;
    if (!access) return done();
    try {
      const client = identify(request.headers.authorization);
      if (!access.roles.some((r) => client.roles.includes(r))) throw new TesseraError('FORBIDDEN');
      request.client = client;
    } catch (e) {
      return done(e as Error);
    }
    done();
  });

  // The turn ends before the answer is written: whoever gets the answer may send the next request at once,
  // to this node or another, and it must find the session free (queue:false) or its line moving.
  // Most requests have nothing to wait for here.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const ended = request.endTurn?.();
    if (ended) ended.then(() => done(null, payload), done);
    else done(null, payload);
  });

  // The request has arrived whole (its body read): only now does it take its turn in its session's line,
  // so a request whose body is slow or never comes holds nothing but its own connection.
  // No body (or JSON null) is an empty object to the schema, as it is to the use cases.
  app.addHook('preValidation', (request, reply, done) => {
    if ((request.body === undefined || request.body === null) && request.routeOptions.schema?.body) request.body = {};
    if (!request.routeOptions.config.access?.session) return done();
    takeTurn(tessera, request, reply).then(() => done(), done);
  });

  app.addHook('preHandler', (request, reply, done) => {
    const access = request.routeOptions.config.access;
    const invalid = request.validationError;
    if (!access?.session || (access.entersItself && !invalid)) return done(invalid);
    if (invalid && (access.noBody || request.method === 'DELETE') && (invalid as { validationContext?: string }).validationContext === 'body') {
      return done(invalid); // refused before the session is looked at: nothing rotates
    }
    tessera.enter(request.client!, request.headers['session-id'], request.headers['session-key'], { rotate: !access.keepKey }).then((ctx) => {
      request.ctx = ctx;
      sessionHeaders(reply, ctx);
      done(invalid);
    }, done);
  });
}

/**
 * Waits for this request's turn in its session's line (docs/protocol.md#serialized-requests). Called
 * once the request has arrived whole (head and body), so requests take their
 * turns in the order they arrived whole; the turn ends when the response is
 * finished or the connection closes.
 */
async function takeTurn(tessera: Tessera, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  let release: Release | null = null;
  let ended = false;
  const end = () => {
    ended = true;
    return release?.();
  };
  reply.raw.once('close', end); // the connection closed before an answer was sent
  release = await tessera.takeTurn(request.client!, request.headers['session-id']); // null: fails authentication in the preHandler
  if (ended) await release?.();
  else request.endTurn = end;
}

/** The session this request entered (a session route's handler runs only after the preHandler entered it). */
export function entered(request: FastifyRequest): SessionContext {
  return request.ctx!;
}

/** The answer of a use case that gave the session a new key: its headers, then its answer. */
export function rekeyed<T>(reply: FastifyReply, result: Rekeyed<T>): T {
  sessionHeaders(reply, result.ctx);
  return result.answer;
}

/** The session's three headers. */
const SESSION_HEADERS = ['session-id', 'session-key', 'session-expires'] as const;

/** Takes the session's headers off the reply (the session is gone, or the credentials were refused). */
export function dropSessionHeaders(reply: FastifyReply): void {
  for (const h of SESSION_HEADERS) reply.removeHeader(h);
}

/**
 * The headers of an error's answer, whichever door it came through (the JSON
 * and XML routes, SOAP): after a refusal of the credentials (401) none of the
 * session's; after the key changed (the error carries the context, or the
 * caller knows it as `accepted`) the next key, so the client can go on; a
 * Retry-After when the error names one. Logs an unexpected error. Answers
 * the error as the catalogue has it, and the context whose key is the next
 * one when the answer gives it.
 */
export function errorHeaders(request: FastifyRequest, reply: FastifyReply, err: unknown, accepted: SessionContext | null = null):
  { error: TesseraError; next: SessionContext | null } {
  const error = toTesseraError(err);
  if (error.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unexpected error');
  const next = error.status === 401 ? null : acceptedContext(err) ?? accepted;
  if (error.status === 401) dropSessionHeaders(reply);
  else if (next) sessionHeaders(reply, next);
  if (typeof error.details?.retryAfter === 'number') reply.header('retry-after', String(error.details.retryAfter));
  return { error, next };
}

/** Puts the session's id, the key to send next and the next timeout on the reply. */
export function sessionHeaders(reply: FastifyReply, ctx: SessionContext): void {
  reply.header('session-id', ctx.session.id);
  reply.header('session-key', ctx.key);
  reply.header('session-expires', iso(ctx.session.nextTimeout));
}

/** The headers of a session just made (create, transfer). */
export function createdHeaders(reply: FastifyReply, created: { id: string; key: string; nextTimeout: string }): void {
  reply.header('session-id', created.id).header('session-key', created.key).header('session-expires', created.nextTimeout);
  reply.code(201);
}
