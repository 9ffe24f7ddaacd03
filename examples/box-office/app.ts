/**
 * The box office: an Express site whose visitors' sessions, carts (holds),
 * sales (claims) and logins live in Tessera, through tessera/express.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { TesseraClient } from '../../src/client/index.js';
import { AccessDenied, isTesseraError, tessera as tesseraMiddleware, type TesseraSiteOptions } from '../../src/middleware/express.js';
import type { Tessera } from '../../src/service/tessera.js';
import { eventById, EVENTS, isSeat, poolName, ROWS, SEATS_PER_ROW, seatResource } from './catalog.js';
import { cartPage, CSS, errorPage, eventPage, eventsPage, expiredPage, loginPage, ticketsPage, type Chrome, type SeatState } from './views.js';

/** The demo's accounts (in-process mode seeds them; a Tessera server needs them in its config). */
export const DEMO_USERS = [
  { name: 'alice', password: 'alice-password', roles: ['customer'] },
  { name: 'bob', password: 'bob-password', roles: ['customer'] },
];

export interface BoxOfficeOptions {
  /** In-process: a Tessera instance (SQLite, memory...). */
  tessera?: Tessera;
  /** Or a Tessera server: its URL, an app client's token, and optionally an admin token (seat map of others' holds, pools). */
  url?: string;
  token?: string;
  adminToken?: string;
  /** The cookie's HMAC secret. */
  secret: string;
  /** How long a hold lasts, in seconds. @default 600 */
  holdTtl?: number;
}

/** Who holds which seats of an event, as the seat map shows them. */
type Board = (eventId: string) => Promise<{ resource?: string; sessionId: string }[]>;

export async function createBoxOffice(o: BoxOfficeOptions): Promise<express.Express> {
  const holdTtl = o.holdTtl ?? 600;
  const site: TesseraSiteOptions = o.tessera
    ? { secret: o.secret, tessera: o.tessera, anonymous: true }
    : { secret: o.secret, url: o.url, token: o.token, anonymous: true };
  let board: Board = async () => [];
  if (o.tessera) {
    const t = o.tessera;
    for (const e of EVENTS) await t.holds.setPool(poolName(e.id), { capacity: e.standing });
    board = async (id) => (await t.holds.listAll({ prefix: `seat:${id}:` })).holds;
  } else {
    // Pools and the seat map need an admin client (a server in open mode treats every caller as one).
    const admin = new TesseraClient({ url: o.url!, token: o.adminToken ?? o.token });
    try {
      for (const e of EVENTS) await admin.admin.setPool(poolName(e.id), e.standing);
      board = async (id) => ((await admin.admin.holds({ prefix: `seat:${id}:` })).holds ?? []) as { resource?: string; sessionId: string }[];
    } catch (e) {
      if (!isTesseraError(e, 'FORBIDDEN') && !isTesseraError(e, 'CLIENT_UNAUTHORIZED')) throw e;
      console.warn('box office: no admin token, so the seat map shows only your own holds and the standing pools must exist already');
    }
  }
  /** Seats sold through this site (a real site keeps its orders in its own database). */
  const sold = new Set<string>();

  const app = express();
  app.disable('x-powered-by');
  app.get('/style.css', (_req, res) => void res.type('text/css').set('cache-control', 'public, max-age=300').send(CSS));
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.use(express.urlencoded({ extended: false, limit: '10kb' }));
  app.use(tesseraMiddleware(site));
  app.use((req, res, next) => {
    res.set('cache-control', 'no-store');
    // The middleware found the cart's holds expired and moved the visitor to a fresh session.
    if (req.tessera.cartExpired && req.path !== '/expired') {
      req.tessera.records.put('expired', req.tessera.expired).then(() => res.redirect(303, '/expired'), next);
      return;
    }
    next();
  });

  const chrome = async (req: Request): Promise<Chrome> => {
    const t = req.tessera;
    const flash = await t.records.get<Chrome['flash']>('flash');
    if (flash) await t.records.delete('flash');
    const { holds } = await t.cart();
    return { user: t.user, loggedIn: t.loggedIn, cartCount: holds.reduce((n, h) => n + (h.quantity ?? 1), 0), flash };
  };
  const flash = (req: Request, kind: 'ok' | 'warn' | 'error', text: string) => req.tessera.records.put('flash', { kind, text });

  async function seatState(req: Request, eventId: string): Promise<SeatState> {
    const taken: SeatState['taken'] = new Map();
    for (const name of sold) if (name.startsWith(`seat:${eventId}:`)) taken.set(name.split(':')[2], 'sold');
    for (const h of await board(eventId)) if (h.resource) taken.set(h.resource.split(':')[2], h.sessionId === req.tessera.id ? 'mine' : 'held');
    const { holds, claims } = await req.tessera.cart();
    for (const h of holds) if (h.resource?.startsWith(`seat:${eventId}:`)) taken.set(h.resource.split(':')[2], 'mine');
    for (const c of claims) if (c.resource?.startsWith(`seat:${eventId}:`)) taken.set(c.resource.split(':')[2], 'sold');
    const standingMine = holds.filter((h) => h.pool === poolName(eventId)).reduce((n, h) => n + (h.quantity ?? 0), 0);
    return { taken, standingLeft: null, standingMine };
  }

  async function renderEvent(req: Request, res: Response, status = 200): Promise<void> {
    const e = eventById(String(req.params.id));
    if (!e) return void res.status(404).send(errorPage(await chrome(req), 404, 'No such concert.'));
    const state = await seatState(req, e.id);
    res.status(status).send(eventPage(await chrome(req), e, state));
  }

  app.get('/', async (req, res) => void res.send(eventsPage(await chrome(req))));
  app.get('/events/:id', (req, res) => renderEvent(req, res));

  /** A hold that lost a race: the event page again, with 409 and "just taken". */
  async function taken(req: Request, res: Response, text: string): Promise<void> {
    await flash(req, 'error', text);
    await renderEvent(req, res, 409);
  }

  app.post('/events/:id/hold', async (req, res) => {
    const e = eventById(String(req.params.id));
    const seat = String(req.body.seat ?? req.body.release ?? '');
    if (!e || !isSeat(seat)) return void res.redirect(303, '/');
    if (req.body.release) {
      await req.tessera.release(seatResource(e.id, seat));
      await flash(req, 'ok', `Row ${seat[0]}, seat ${seat.slice(1)} is no longer in your cart.`);
      return void res.redirect(303, `/events/${e.id}`);
    }
    try {
      await req.tessera.hold({ resources: [seatResource(e.id, seat)], ttl: holdTtl });
    } catch (err) {
      if (isTesseraError(err, 'HOLD_CONFLICT')) return taken(req, res, `Just taken: row ${seat[0]}, seat ${seat.slice(1)} went to someone else a moment ago.`);
      throw err;
    }
    await flash(req, 'ok', `Row ${seat[0]}, seat ${seat.slice(1)} is yours for ${Math.round(holdTtl / 60) || 1} min.`);
    res.redirect(303, `/events/${e.id}`);
  });

  app.post('/events/:id/best', async (req, res) => {
    const e = eventById(String(req.params.id));
    const count = Math.min(6, Math.max(1, Number(req.body.count) || 1));
    if (!e) return void res.redirect(303, '/');
    const { taken: busy } = await seatState(req, e.id);
    let pick: string[] | null = null;
    for (const row of ROWS) {
      for (let i = 1; i + count - 1 <= SEATS_PER_ROW && !pick; i++) {
        const seats = Array.from({ length: count }, (_, k) => `${row}${i + k}`);
        if (seats.every((s) => !busy.has(s))) pick = seats;
      }
      if (pick) break;
    }
    if (!pick) {
      await flash(req, 'warn', `No ${count} seats side by side are left.`);
      return void res.redirect(303, `/events/${e.id}`);
    }
    try {
      // All or nothing: either every seat is held for this visitor, or none is.
      await req.tessera.hold({ resources: pick.map((s) => seatResource(e.id, s)), ttl: holdTtl });
    } catch (err) {
      if (isTesseraError(err, 'HOLD_CONFLICT')) return taken(req, res, 'Just taken: someone got one of those seats first. Nothing was held; try again.');
      throw err;
    }
    await flash(req, 'ok', `Held row ${pick[0][0]}, seats ${pick.map((s) => s.slice(1)).join(', ')}.`);
    res.redirect(303, `/events/${e.id}`);
  });

  app.post('/events/:id/standing', async (req, res) => {
    const e = eventById(String(req.params.id));
    const quantity = Math.min(8, Math.max(1, Number(req.body.quantity) || 1));
    if (!e) return void res.redirect(303, '/');
    try {
      await req.tessera.hold({ pool: poolName(e.id), quantity, ttl: holdTtl });
    } catch (err) {
      if (isTesseraError(err, 'POOL_EXHAUSTED')) return taken(req, res, `Not enough standing places left for ${quantity}.`);
      throw err;
    }
    await flash(req, 'ok', `${quantity} standing place${quantity > 1 ? 's' : ''} added to your cart.`);
    res.redirect(303, `/events/${e.id}`);
  });

  app.get('/cart', async (req, res) => {
    const { holds } = await req.tessera.cart();
    const lines = holds.map((h) => ({ name: (h.resource ?? h.pool)!, quantity: h.quantity ?? 1, expiresAt: h.expiresAt! }));
    res.send(cartPage(await chrome(req), lines, req.tessera.loggedIn));
  });

  app.post('/cart/release', async (req, res) => {
    await req.tessera.release(String(req.body.name ?? ''));
    res.redirect(303, '/cart');
  });

  app.get('/login', async (req, res) => void res.send(loginPage(await chrome(req), safeNext(req.query.next))));
  app.post('/login', async (req, res) => {
    const next = safeNext(req.body.next);
    try {
      const user = await req.tessera.login(String(req.body.username ?? ''), String(req.body.password ?? ''));
      await flash(req, 'ok', `Welcome, ${user.name}.`);
      res.redirect(303, next);
    } catch (err) {
      if (isTesseraError(err, 'LOGIN_FAILED') || isTesseraError(err, 'INVALID_REQUEST')) {
        return void res.status(401).send(loginPage(await chrome(req), next, 'Unknown user or wrong password.'));
      }
      if (isTesseraError(err, 'LOGIN_THROTTLED')) return void res.status(429).send(loginPage(await chrome(req), next, 'Too many tries; wait a few minutes.'));
      throw err;
    }
  });

  app.post('/logout', async (req, res) => {
    await req.tessera.logout();
    await flash(req, 'ok', 'You are signed out. Your cart was emptied.');
    res.redirect(303, '/');
  });

  app.post('/checkout', async (req, res) => {
    if (!req.tessera.loggedIn) return void res.redirect(303, '/login?next=/cart');
    const { holds } = await req.tessera.cart();
    if (holds.length === 0) {
      await flash(req, 'warn', 'There is nothing in your cart to pay for.');
      return void res.redirect(303, '/cart');
    }
    try {
      const { claims } = await req.tessera.confirm() as { claims: { resource?: string; pool?: string }[] };
      for (const c of claims) if (c.resource) sold.add(c.resource);
    } catch (err) {
      if (!isTesseraError(err, 'HOLDS_EXPIRED')) throw err;
      await req.tessera.records.put('expired', req.tessera.expired);
      return void res.redirect(303, '/expired');
    }
    await flash(req, 'ok', 'Paid. Enjoy the concert!');
    res.redirect(303, '/tickets');
  });

  app.get('/tickets', async (req, res) => {
    const { claims } = await req.tessera.cart();
    const list = claims.map((c) => ({ name: (c.resource ?? c.pool)!, quantity: c.quantity ?? 1, token: c.token ?? 0, confirmedAt: c.confirmedAt ?? '' }));
    res.send(ticketsPage(await chrome(req), list));
  });

  app.get('/expired', async (req, res) => {
    const names = (await req.tessera.records.get<string[]>('expired')) ?? [];
    await req.tessera.records.delete('expired');
    if (names.length === 0 && !req.tessera.cartExpired) return void res.redirect(303, '/cart');
    res.send(expiredPage(await chrome(req), names.length ? names : req.tessera.expired));
  });

  app.use(async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof AccessDenied ? err.status : 500;
    if (status === 500) console.error(err);
    const text = err instanceof Error && status !== 500 ? err.message : 'Please try again in a moment.';
    let c: Chrome = { user: null, loggedIn: false, cartCount: 0 };
    try {
      if (req.tessera) c = await chrome(req);
    } catch { /* the page of an error needs no cart */ }
    res.status(status).send(errorPage(c, status, text));
  });
  return app;
}

function safeNext(v: unknown): string {
  return typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') ? v : '/';
}
