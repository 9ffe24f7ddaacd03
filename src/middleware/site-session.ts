import { isTesseraError } from '../client/errors.js';
import type { ConfirmAnswer, HoldAnswer, HoldBody, HoldsList, RecordWriteOptions, SessionApi } from '../client/types.js';

/** What a page's session needs to know of the site's settings. */
export interface SiteSettings {
  /** The anonymous user's name (to tell a named user from it). */
  readonly anonymousName: string;
  /** Log the anonymous user in again after a logout. */
  readonly anonymous: boolean;
}

export interface SessionUser {
  name: string;
  roles: string[];
}

export type Hold = HoldsList extends { holds?: (infer H)[] } ? H : never;
export type Claim = HoldsList extends { claims?: (infer C)[] } ? C : never;

/** An error for the site's own error handler: `status` 401 (no user) or 403 (a role missing). */
export class AccessDenied extends Error {
  readonly status: 401 | 403;
  readonly code = 'FORBIDDEN';
  constructor(status: 401 | 403, message: string) {
    super(message);
    this.name = 'AccessDenied';
    this.status = status;
  }
}

/**
 * `req.tessera`: the visitor's Tessera session for this page. Every call goes
 * through one handle that keeps the current key; the middleware writes the
 * key the page ends with into the cookie.
 */
export class SiteSession {
  /** True when this page found the cart's holds expired and moved the visitor to a fresh session. */
  cartExpired = false;
  /** What expired (names of resources and pools), when cartExpired. */
  expired: string[] = [];
  private cartRead: HoldsList | null = null;

  constructor(private readonly settings: SiteSettings, readonly api: SessionApi, private currentUser: SessionUser | null) {}

  get id(): string {
    return this.api.id;
  }

  /** The key the next Tessera call presents (what the cookie will hold). */
  get key(): string {
    return this.api.key;
  }

  /** The session's user: null before any login, the anonymous user after an anonymous one. */
  get user(): SessionUser | null {
    return this.currentUser;
  }

  get roles(): string[] {
    return this.currentUser?.roles ?? [];
  }

  /** A named user (not the anonymous one) is logged in. */
  get loggedIn(): boolean {
    return this.currentUser !== null && this.currentUser.name !== this.settings.anonymousName;
  }

  hasRole(...roles: string[]): boolean {
    return roles.some((r) => this.roles.includes(r));
  }

  /** Throws AccessDenied (401 with no named user, 403 without any of the roles). */
  requireRole(...roles: string[]): void {
    if (!this.loggedIn) throw new AccessDenied(401, 'Log in first.');
    if (roles.length > 0 && !this.hasRole(...roles)) throw new AccessDenied(403, `One of these roles is needed: ${roles.join(', ')}.`);
  }

  /** Logs a user in: a new key (no fixation); records and holds stay. Throws LOGIN_FAILED, LOGIN_THROTTLED. */
  async login(username: string, password: string): Promise<SessionUser> {
    const { user } = await this.api.login({ username, password }) as { user: SessionUser };
    this.currentUser = user;
    return user;
  }

  async loginAnonymous(): Promise<SessionUser> {
    const { user } = await this.api.login({ anonymous: true }) as { user: SessionUser };
    this.currentUser = user;
    return user;
  }

  /** Logs out (holds are released, a new key); logs the anonymous user in again when configured. */
  async logout(): Promise<void> {
    await this.api.logout();
    this.currentUser = null;
    this.cartRead = null;
    if (this.settings.anonymous) await this.loginAnonymous();
  }

  /** Ends the Tessera session; the next page starts a fresh one. */
  async end(): Promise<void> {
    await this.api.end();
  }

  // ---- the cart ------------------------------------------------------------------

  /**
   * Reads holds and claims. When holds expired since the last read
   * (HOLDS_EXPIRED), moves to a fresh session with what is left (transfer),
   * sets `cartExpired` and `expired`, and reads again.
   */
  async refreshCart(): Promise<HoldsList> {
    try {
      this.cartRead = await this.api.holds();
    } catch (e) {
      if (!isTesseraError(e, 'HOLDS_EXPIRED')) throw e;
      await this.expire((e.details?.expired as string[] | undefined) ?? []);
      this.cartRead = await this.api.holds();
    }
    return this.cartRead;
  }

  private async expire(names: string[]): Promise<void> {
    await this.api.transfer();
    this.cartExpired = true;
    this.expired = [...new Set([...this.expired, ...names])];
  }

  /** The cart as last read this page (the middleware reads it as the page starts). */
  async cart(): Promise<{ holds: Hold[]; claims: Claim[] }> {
    const c = this.cartRead ?? await this.refreshCart();
    return { holds: (c.holds ?? []) as Hold[], claims: (c.claims ?? []) as Claim[] };
  }

  /** Holds resources (all or nothing) or units of a pool. Throws HOLD_CONFLICT, POOL_EXHAUSTED. */
  async hold(body: HoldBody): Promise<HoldAnswer> {
    this.cartRead = null;
    return this.api.hold(body);
  }

  async release(resource?: string): Promise<string[]> {
    this.cartRead = null;
    const { released } = await this.api.releaseHolds(resource) as { released: string[] };
    return released;
  }

  /**
   * The sale: confirms the holds (all, or these). When any had expired,
   * nothing is sold: the visitor moves to a fresh session (`cartExpired`)
   * and HOLDS_EXPIRED is thrown on.
   */
  async confirm(resources?: string[]): Promise<ConfirmAnswer> {
    this.cartRead = null;
    try {
      return await this.api.confirmHolds(resources);
    } catch (e) {
      if (!isTesseraError(e, 'HOLDS_EXPIRED')) throw e;
      await this.expire((e.details?.expired as string[] | undefined) ?? resources ?? []);
      throw e;
    }
  }

  /** Records of the session. */
  readonly records = {
    get: async <T = unknown>(name: string, key?: string): Promise<T | undefined> => {
      try {
        return ((await this.api.getRecord(name, key)) as { value?: T }).value;
      } catch (e) {
        if (isTesseraError(e, 'RECORD_NOT_FOUND')) return undefined;
        throw e;
      }
    },
    /** A multiple record's entries, `{ key: value }`; {} when absent. */
    entries: async <T = unknown>(name: string): Promise<Record<string, T>> => {
      try {
        const r = await this.api.getRecord(name) as { entries?: { key: string; value: T }[] };
        return Object.fromEntries((r.entries ?? []).map((e) => [e.key, e.value]));
      } catch (e) {
        if (isTesseraError(e, 'RECORD_NOT_FOUND')) return {};
        throw e;
      }
    },
    put: (name: string, value: unknown, options?: RecordWriteOptions) => this.api.putRecord(name, value, options),
    delete: async (name: string, key?: string): Promise<boolean> => {
      try {
        await this.api.deleteRecord(name, key);
        return true;
      } catch (e) {
        if (isTesseraError(e, 'RECORD_NOT_FOUND')) return false;
        throw e;
      }
    },
    list: () => this.api.listRecords(),
  };

  /** Transactions (nested scopes) of the session. */
  readonly transactions = {
    begin: () => this.api.begin(),
    commit: () => this.api.commit(),
    rollback: (options?: { all?: boolean }) => this.api.rollback(options),
  };
}
