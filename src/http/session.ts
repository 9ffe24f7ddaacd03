import type { FastifyReply, FastifyRequest } from 'fastify';
import { iso } from '../core/clock.js';
import type { ClientRole } from '../core/config.js';
import type { Release } from '../store/queue.js';
import type { Client, SessionContext } from '../service/context.js';
import type { Tessera } from '../service/tessera.js';

/**
 * What every session-bound route needs, written once: the access each route
 * declares, taking the session's turn as the request arrives, accepting the
 * credentials and putting the session headers on the answer.
 */

/** What a route needs: which client roles may call it, and whether it is session-bound. */
export interface Access {
  roles: readonly ClientRole[];
  session?: boolean;
  /** The route takes no body (as every DELETE): one with properties is refused, not ignored. */
  noBody?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** Ends this request's turn in its session's line (section 4), if it took one. */
    endTurn?: () => void | Promise<void>;
    client: Client | null;
  }
}

export const APP: Access = { roles: ['app', 'admin'] };
export const SESSION: Access = { roles: ['app', 'admin'], session: true };
export const ADMIN: Access = { roles: ['admin'] };

/**
 * Waits for this request's turn in its session's line (section 4). Called as
 * the head arrives, before the body is read, so arrival order is kept; the
 * turn ends when the response is finished or the connection closes.
 */
export async function takeTurn(tessera: Tessera, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const id = request.headers['session-id'];
  if (typeof id !== 'string' || id.length > 64) return; // fails authentication in the handler
  let release: Release | null = null;
  let ended = false;
  const end = () => {
    ended = true;
    return release?.();
  };
  reply.raw.once('close', end); // the connection closed before an answer was sent
  release = await tessera.takeTurn(request.client!, id);
  if (ended) await release?.();
  else request.endTurn = end;
}

/**
 * Wraps a session-bound handler: accepts the credentials (rotating the key)
 * and puts the session headers on the reply, errors after that included.
 */
export function withSession<T>(tessera: Tessera, handler: (ctx: SessionContext, request: FastifyRequest, reply: FastifyReply) => Promise<T>,
  options: { rotate?: boolean } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<T> => {
    const ctx = await tessera.authenticate(request.client!, request.headers['session-id'], request.headers['session-key'], options);
    sessionHeaders(reply, ctx);
    // After the headers: TRANSACTION_ABORTED carries the next key. Depth 0: authenticate saw no scope state.
    if (ctx.transactionDepth !== 0) await tessera.transactions.enter(ctx);
    return handler(ctx, request, reply);
  };
}

/** Puts the session's id, the key to send next and the next timeout on the reply. */
export function sessionHeaders(reply: FastifyReply, ctx: SessionContext): void {
  reply.header('session-id', ctx.session.id);
  reply.header('session-key', ctx.key);
  reply.header('session-expires', iso(ctx.session.nextTimeout));
}
