/**
 * tessera/express: `app.use(tessera({ secret, tessera }))` (in-process) or
 * `app.use(tessera({ secret, url, token }))` (a Tessera server), then
 * `req.tessera` in every handler. The flow itself is in core.ts, shared with
 * the Fastify plugin.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SiteCore, type TesseraSiteOptions } from './core.js';
import { AccessDenied, type SiteSession } from './site-session.js';

export { SiteCore, type TesseraSiteOptions } from './core.js';
export { AccessDenied, SiteSession, type SessionUser, type Hold, type Claim } from './site-session.js';
export type { CookieOptions } from './cookie.js';
export { isTesseraError, TesseraClientError } from '../client/errors.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The visitor's Tessera session for this page (set by the tessera middleware). */
      tessera: SiteSession;
    }
  }
}

export interface TesseraMiddleware extends RequestHandler {
  core: SiteCore;
  /** A route guard: 401/403 (AccessDenied, to your error handler) unless the user has one of the roles. */
  requireRole(...roles: string[]): RequestHandler;
}

/** Calls `listener` just before the response head is written (as the on-headers package does). */
function beforeHead(res: Response, listener: () => void): void {
  const writeHead = res.writeHead;
  let fired = false;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    if (!fired) {
      fired = true;
      listener();
    }
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
}

export function tessera(options: TesseraSiteOptions): TesseraMiddleware {
  const core = new SiteCore(options);
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    core.start(req.headers.cookie, req.secure).then((start) => {
      if (start.kind === 'again') {
        // Another tab of this visitor just changed the key; the browser has the new cookie: come again.
        res.status(307).set({ location: req.originalUrl, 'cache-control': 'no-store' }).end();
        return;
      }
      req.tessera = start.site;
      beforeHead(res, () => {
        const cookie = start.setCookie();
        if (cookie) res.append('Set-Cookie', cookie);
      });
      res.once('close', start.done);
      next();
    }, next);
  };
  return Object.assign(middleware, {
    core,
    requireRole: (...roles: string[]): RequestHandler => (req, _res, next) => {
      try {
        req.tessera.requireRole(...roles);
        next();
      } catch (e) {
        next(e as AccessDenied);
      }
    },
  });
}

export default tessera;
