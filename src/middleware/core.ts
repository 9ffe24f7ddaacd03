import { createHash } from 'node:crypto';
import { isTesseraError } from '../client/errors.js';
import type { CreateSessionOptions, Credentials, SessionApi } from '../client/types.js';
import { openCredentials, readCookie, sealCredentials, serializeCookie, type CookieOptions } from './cookie.js';
import { backendOf, type BackendOptions } from './backend.js';
import { SiteSession, type SessionUser, type SiteSettings } from './site-session.js';

/**
 * The per-page flow shared by the Express middleware and the Fastify plugin
 * (they only adapt requests and replies to it).
 */
export interface TesseraSiteOptions extends BackendOptions {
  /** The site's secret(s) for the cookie's HMAC: the first signs, every one verifies (to rotate secrets). */
  secret: string | readonly string[];
  cookie?: CookieOptions;
  /**
   * What new sessions are created with. Rotation defaults to
   * 'on-privilege-change' for browser sessions (docs/use-from-a-site.md says why).
   */
  session?: CreateSessionOptions;
  /** Log the server's anonymous user into every new session (Tessitura's LoginEx2). @default false */
  anonymous?: boolean;
  /** The anonymous user's name, to tell `req.tessera.anonymous` (HTTP mode; in-process it is read from the config). @default 'anonymous' */
  anonymousName?: string;
  /**
   * Read the cart (holds and claims) on every page; when holds expired since
   * the last read, move to a fresh session (transfer) and set `cartExpired`. @default true
   */
  checkCart?: boolean;
  /**
   * How long (seconds) this process remembers a key it replaced with a login,
   * logout or transfer, so that a request of another tab still carrying it is
   * told to come again (307) with the new cookie instead of presenting it
   * (a replay: the session would be revoked). @default 30
   */
  staleKeyMemory?: number;
}

/** What the framework adapters hand to the flow and get back. */
export type PageStart =
  | { kind: 'page'; site: SiteSession; setCookie: () => string | null; done: () => void }
  | { kind: 'again' };

interface Superseded {
  keyHash: string;
  at: number;
  /** 307s sent for it: after a few, the browser evidently never got the new cookie. */
  redirects: number;
}

const MAX_REDIRECTS = 3;
const hashOf = (key: string) => createHash('sha256').update(key).digest('base64url');

export class SiteCore {
  readonly options: Readonly<TesseraSiteOptions>;
  private readonly secrets: readonly string[];
  private readonly open: (c: Credentials) => SessionApi;
  private readonly create: () => Promise<SessionApi>;
  /** Per session id: the tail of this process's pages of that session (one page at a time). */
  private readonly lines = new Map<string, Promise<void>>();
  /** Per session id: the key a login, logout or transfer replaced, lately. */
  private readonly superseded = new Map<string, Superseded>();
  readonly anonymousName: string;
  private readonly settings: SiteSettings;

  constructor(options: TesseraSiteOptions) {
    const secrets = typeof options.secret === 'string' ? [options.secret] : [...(options.secret ?? [])];
    if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < 16)) {
      throw new TypeError('tessera middleware: `secret` must be a string of at least 16 characters (or a list of them).');
    }
    this.options = Object.freeze({ ...options });
    this.secrets = secrets;
    const body: CreateSessionOptions = { rotation: 'on-privilege-change', ...options.session };
    const backend = backendOf(options, 'tessera middleware');
    this.anonymousName = backend.anonymousName ?? options.anonymousName ?? 'anonymous';
    this.open = (c) => backend.open(c);
    this.create = () => backend.create(body);
    this.settings = { anonymousName: this.anonymousName, anonymous: options.anonymous ?? false };
  }

  /**
   * Starts a page: finds (or makes) the visitor's session and runs the flow.
   * `again`: answer 307 to the same URL (another tab just changed the key;
   * the browser has the new cookie by now). Otherwise call `setCookie` as the
   * answer's head goes out and `done` when the answer is finished.
   */
  async start(cookieHeader: string | undefined, https: boolean): Promise<PageStart> {
    const cookieName = this.options.cookie?.name ?? 'tessera';
    const presented = openCredentials(this.secrets, readCookie(cookieHeader, cookieName));
    let done = () => {};
    if (presented) {
      done = await this.enterLine(presented.id);
      const stale = this.superseded.get(presented.id);
      if (stale && Date.now() - stale.at > (this.options.staleKeyMemory ?? 30) * 1000) this.superseded.delete(presented.id);
      else if (stale && stale.keyHash === hashOf(presented.key) && stale.redirects < MAX_REDIRECTS) {
        stale.redirects++;
        done();
        return { kind: 'again' };
      }
    }
    try {
      const site = await this.resume(presented);
      let written = false;
      const setCookie = () => {
        if (written) return null;
        written = true;
        const now = { id: site.id, key: site.key };
        if (presented && now.id === presented.id && now.key === presented.key) return null;
        // Other tabs still carry the presented key: tell them to come again rather than present it (a replay).
        if (presented) this.remember(presented);
        return serializeCookie(this.options.cookie ?? {}, sealCredentials(this.secrets[0], now), https);
      };
      return { kind: 'page', site, setCookie, done };
    } catch (e) {
      done();
      throw e;
    }
  }

  /** Waits for this process's earlier pages of the same session; resolves to the release. */
  private async enterLine(id: string): Promise<() => void> {
    const before = this.lines.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = before.then(() => mine);
    this.lines.set(id, tail);
    await before;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.lines.get(id) === tail) this.lines.delete(id);
    };
  }

  private async resume(presented: Credentials | null): Promise<SiteSession> {
    let site: SiteSession | null = null;
    if (presented) {
      const api = this.open(presented);
      try {
        const view = await api.get();
        site = new SiteSession(this.settings, api, (view.user ?? null) as SessionUser | null);
      } catch (e) {
        // Ended, expired, unknown or revoked: a fresh session. Anything else (store down) is the page's error.
        if (!isTesseraError(e, 'SESSION_INVALID') && !isTesseraError(e, 'SESSION_KEY_REPLAYED')) throw e;
      }
    }
    if (!site) site = await this.fresh();
    if (this.options.checkCart ?? true) await site.refreshCart();
    return site;
  }

  /** A new session (logged in as the anonymous user when configured). */
  async fresh(): Promise<SiteSession> {
    const site = new SiteSession(this.settings, await this.create(), null);
    if (this.options.anonymous) await site.loginAnonymous();
    return site;
  }

  /** A page replaced the key `old` (a login, logout, transfer): requests still carrying it are sent round again (307). */
  remember(old: Credentials): void {
    this.superseded.set(old.id, { keyHash: hashOf(old.key), at: Date.now(), redirects: 0 });
    if (this.superseded.size > 10_000) {
      const cutoff = Date.now() - (this.options.staleKeyMemory ?? 30) * 1000;
      for (const [id, s] of this.superseded) if (s.at < cutoff) this.superseded.delete(id);
    }
  }
}
