import { createHmac } from 'node:crypto';
import { iso } from '../core/clock.js';
import { invalid, TesseraError } from '../core/errors.js';
import { bodyObject, queryLimit } from '../core/input.js';
import { hashKey, isWellFormedId, newSalt, newSessionKey } from '../core/keys.js';
import { dummyHash, hashPassword, verifyPassword } from '../core/passwords.js';
import type { SessionInfo, SessionUser } from '../core/session.js';
import { loginThrottles, MAX_SESSION_PAGE, password, roleList, SESSION_PAGE, throttleSecret, username, type StoredUser, type ThrottleCounters } from '../core/users.js';
import type { EndedSession, KeyRotation } from '../store/contract.js';
import { afterAccepted, Rekeyed, type SessionContext } from './context.js';
import type { Holds } from './holds.js';
import type { Shared } from './shared.js';

export interface UserView {
  name: string;
  roles: string[];
  createdAt: string;
  updatedAt: string;
}

export interface AdminSessionView {
  id: string;
  client: string;
  user: SessionUser | null;
  createdAt: string;
  lastAccessAt: string;
  nextTimeout: string;
  expiresAt?: string;
  rotation?: string;
}

/**
 * Users, login, roles (docs/protocol.md#users-login-and-roles) and the per-user administration
 * (docs/protocol.md#administration-and-operations). Login and logout are privilege changes: a fresh key with no grace for
 * the old one, in one store step. The caller entered the session without
 * rotating (`rotate: false`), so a failed login changes nothing. They answer
 * the session's new context (Rekeyed) and leave the caller's as it was.
 */
export class Users {
  private seeding: Promise<void> | null = null;
  /** The key of the throttle counters' keyed hashes (core/users.ts throttleSecret). */
  private readonly throttleSecret: Buffer;

  constructor(
    private readonly shared: Shared,
    /** Logout releases the session's holds as DELETE /v1/session/holds does. */
    private readonly holds: Pick<Holds, 'releaseHolds'>,
  ) {
    this.throttleSecret = throttleSecret(shared.config);
  }

  /**
   * Creates the config's `users` that the store does not have yet (an existing
   * user is left as it is: a restart never undoes an admin's change). Runs
   * once; every users use case waits for it.
   */
  seed(): Promise<void> {
    this.seeding ??= this.createSeedUsers().catch((e) => {
      this.seeding = null;
      throw e;
    });
    return this.seeding;
  }

  private async createSeedUsers(): Promise<void> {
    await dummyHash();
    const { store, config } = this.shared;
    for (const u of config.users) {
      if (await store.getUser(u.name)) continue;
      await store.putUser(u.name, { passwordHash: await hashPassword(u.password), roles: [...u.roles], ifAbsent: true });
    }
  }

  // ---- the session's own routes ----------------------------------------------

  /**
   * `POST /v1/session/login`. The store steps, after the caller entered the
   * session without rotating (step 1, `authenticate`):
   *   2. `takeLoginAttempt`, once per curve (core/users.ts loginThrottles:
   *      username and source, and session; username; source): counts the
   *      attempt, or answers how long to wait (then the curves already
   *      counted take it back, step 2': `authenticate` again, rotating as any
   *      request does, and LOGIN_THROTTLED);
   *   3. `getUser`, then one argon2 verification outside the store (an
   *      unknown user costs what a wrong password does);
   *   4. `loginUser`: the user, a new key with no grace, only if the user's
   *      password hash is still the one verified;
   *   5. `settleLoginAttempt`: a success does not count as a failure.
   * The contract has no step for 2 to 5 together: the argon2 verification
   * must run between 3 and 4, outside any store step.
   */
  async login(ctx: SessionContext, body: unknown, source = 'local'): Promise<Rekeyed<{ user: SessionUser }>> {
    const b = bodyObject(body, ['username', 'password', 'anonymous']);
    if (b.anonymous !== undefined) {
      if (b.anonymous !== true) throw invalid("'anonymous' must be true.", 'anonymous');
      if (b.username !== undefined || b.password !== undefined) throw invalid("An anonymous login takes no 'username' or 'password'.", 'anonymous');
      const anonymous = this.shared.config.anonymousUser;
      return this.changeUser(ctx, { name: anonymous.name, roles: [...anonymous.roles] });
    }
    const name = username(b.username);
    const secret = password(b.password);
    await this.seed();
    const { store, config } = this.shared;
    const curves = loginThrottles(this.throttleSecret, config.login, name, ctx.session.id, source);
    const taken = await this.takeAttempt(curves);
    if (taken.waitMs > 0) {
      const { ctx: next } = await this.shared.authenticate(ctx.client, ctx.session.id, ctx.key, true);
      throw afterAccepted(new TesseraError('LOGIN_THROTTLED', undefined, { retryAfter: Math.ceil(taken.waitMs / 1000) }), next);
    }
    const user = await store.getUser(name);
    const verified = await verifyPassword(user?.passwordHash ?? await dummyHash(), secret);
    if (!user || !verified) return this.failed(ctx, user);
    const next = newKey();
    const result = await store.loginUser(ctx.session.id, next.rotation, name, user.passwordHash);
    if (result.outcome === 'user_changed') return this.failed(ctx, null);
    if (result.outcome === 'session_gone') throw new TesseraError('SESSION_INVALID');
    await this.settle(taken.logged);
    this.shared.emit('user.login', result.session);
    return new Rekeyed({ user: { name, roles: [...result.session.user!.roles] } }, { ...ctx, session: result.session, key: next.key });
  }

  /** A counter key for other throttles (the HTTP rate limits): a keyed hash of the parts, as the login counters' keys. */
  counterKey(...parts: string[]): string {
    return createHmac('sha256', this.throttleSecret).update(JSON.stringify(parts)).digest('base64url');
  }

  /**
   * Counts one attempt on every curve (a store step each: their rules
   * differ), or none of them: when one is throttled, those already counted
   * take it back. The longest wait of a throttled curve, or 0.
   */
  private async takeAttempt(curves: ThrottleCounters[]): Promise<{ waitMs: number; logged: { keys: string[]; at: number }[] }> {
    const logged: { keys: string[]; at: number }[] = [];
    for (const curve of curves) {
      const attempt = await this.shared.store.takeLoginAttempt(curve.keys, curve.rule);
      if (attempt.waitMs > 0) {
        await this.settle(logged);
        return { waitMs: attempt.waitMs, logged: [] };
      }
      logged.push({ keys: curve.keys, at: attempt.at });
    }
    return { waitMs: 0, logged };
  }

  private async settle(logged: { keys: string[]; at: number }[]): Promise<void> {
    for (const l of logged) await this.shared.store.settleLoginAttempt(l.keys, l.at);
  }

  private failed(ctx: SessionContext, user: StoredUser | null): never {
    // The attempted name is told only when it is a user's (a password typed into the username field stays out).
    this.shared.emit('user.login_failed', ctx.session, { user: user?.name ?? null });
    throw new TesseraError('LOGIN_FAILED');
  }

  /**
   * `POST /v1/session/logout`: the user cleared, a new key with no grace. The
   * store steps, after the caller entered the session without rotating:
   * `releaseHolds` (every hold of the session, through Holds.releaseHolds,
   * which announces them), then `changePrivilege` (no user, the new key). Two
   * steps: the contract has no step doing both.
   */
  async logout(ctx: SessionContext): Promise<Rekeyed<{ message: 'success' }>> {
    const before = ctx.session.user;
    await this.holds.releaseHolds(ctx.session);
    const next = newKey();
    const session = await this.shared.store.changePrivilege(ctx.session.id, next.rotation, null);
    if (!session) throw new TesseraError('SESSION_INVALID');
    if (before) this.shared.emit('user.logout', session, { user: before.name });
    return new Rekeyed({ message: 'success' as const }, { ...ctx, session, key: next.key });
  }

  /** `POST /v1/session/authorize`: does the session's user have any of these roles? */
  authorize(ctx: SessionContext, body: unknown): { allowed: boolean } {
    const b = bodyObject(body, ['anyOf']);
    const wanted = roleList(b.anyOf, 'anyOf');
    const have = ctx.session.user?.roles ?? [];
    return { allowed: wanted.some((r) => have.includes(r)) };
  }

  private async changeUser(ctx: SessionContext, user: SessionUser): Promise<Rekeyed<{ user: SessionUser }>> {
    const next = newKey();
    const session = await this.shared.store.changePrivilege(ctx.session.id, next.rotation, user);
    if (!session) throw new TesseraError('SESSION_INVALID');
    this.shared.emit('user.login', session);
    return new Rekeyed({ user }, { ...ctx, session, key: next.key });
  }

  // ---- administration ----------------------------------------------------------

  async list(): Promise<{ users: UserView[] }> {
    await this.seed();
    return { users: (await this.shared.store.listUsers()).map(userView) };
  }

  async get(name: unknown): Promise<UserView> {
    const n = username(name, 'name');
    await this.seed();
    const user = await this.shared.store.getUser(n);
    if (!user) throw new TesseraError('USER_NOT_FOUND');
    return userView(user);
  }

  /**
   * `PUT /v1/admin/users/{name}` `{ password?, roles? }`: creates (a password
   * needed) or changes a user. A new password ends the user's sessions; new
   * roles reach them at their next request, with a new key.
   */
  async put(name: unknown, body: unknown): Promise<UserView> {
    const n = this.newUsername(name);
    const b = bodyObject(body, ['password', 'roles']);
    const secret = b.password === undefined ? undefined : password(b.password);
    if (secret === '') throw invalid("'password' must not be empty.", 'password');
    const roles = b.roles === undefined ? undefined : roleList(b.roles);
    await this.seed();
    const result = await this.shared.store.putUser(n, { passwordHash: secret === undefined ? undefined : await hashPassword(secret), roles });
    if (!result.user) throw invalid('A new user needs a password.', 'password');
    this.endedAll(result.ended);
    return userView(result.user);
  }

  /** `DELETE /v1/admin/users/{name}`: removes the user and ends its sessions. */
  async remove(name: unknown): Promise<{ deleted: true; ended: number }> {
    const n = username(name, 'name');
    await this.seed();
    const result = await this.shared.store.deleteUser(n);
    if (!result.deleted) throw new TesseraError('USER_NOT_FOUND');
    this.endedAll(result.ended);
    return { deleted: true, ended: result.ended.length };
  }

  /** Sessions the store just ended (a user's password changed or the user removed). */
  private endedAll(sessions: SessionInfo[]): void {
    for (const s of sessions) this.shared.ended('session.ended', { releasedHolds: [], ...s } as EndedSession);
  }

  private newUsername(name: unknown): string {
    const n = username(name, 'name');
    if (n === this.shared.config.anonymousUser.name) throw invalid(`'${n}' is the anonymous user's name.`, 'name');
    return n;
  }

  /** `GET /v1/admin/sessions?user=&limit=&after=`: a page of live sessions, in id order. */
  async sessions(query: unknown): Promise<{ sessions: AdminSessionView[]; next: string | null }> {
    const q = queryObject(query, ['user', 'limit', 'after']);
    const user = q.user === undefined ? null : username(q.user, 'user');
    const limit = queryLimit(q.limit, 'limit', MAX_SESSION_PAGE, SESSION_PAGE);
    const after = q.after === undefined || q.after === '' ? null : q.after;
    if (after !== null && !isWellFormedId(after)) throw invalid("'after' must be the 'next' of a previous page.", 'after');
    const page = await this.shared.store.listSessions(user, after, limit + 1);
    const more = page.length > limit;
    const sessions = page.slice(0, limit).map((s) => adminView(s));
    return { sessions, next: more ? sessions[sessions.length - 1].id : null };
  }

  /** `DELETE /v1/admin/sessions?user=`: ends every session of a user. */
  async endSessionsOf(query: unknown): Promise<{ ended: number }> {
    const q = queryObject(query, ['user']);
    if (q.user === undefined) throw invalid("'user' is required: name the user whose sessions to end.", 'user');
    const ended = await this.shared.store.endUserSessions(username(q.user, 'user'));
    this.endedAll(ended);
    return { ended: ended.length };
  }

  /** `GET /v1/admin/sessions/{id}`, without touching the session. */
  async session(id: unknown): Promise<AdminSessionView> {
    const found = isWellFormedId(id) ? await this.shared.store.getSession(id) : null;
    if (!found) throw new TesseraError('SESSION_NOT_FOUND');
    return adminView(found, true);
  }

  /** `DELETE /v1/admin/sessions/{id}`. */
  async endSession(id: unknown): Promise<{ message: 'success' }> {
    if (!isWellFormedId(id) || !(await this.shared.store.getSession(id)) || !(await this.shared.endSession(id, 'session.ended'))) {
      throw new TesseraError('SESSION_NOT_FOUND');
    }
    return { message: 'success' };
  }
}

function newKey(): { key: string; rotation: KeyRotation } {
  const key = newSessionKey();
  return { key, rotation: { keyHash: hashKey(key), salt: newSalt() } };
}

function userView(u: StoredUser): UserView {
  return { name: u.name, roles: [...u.roles], createdAt: iso(u.createdAt), updatedAt: iso(u.updatedAt) };
}

function adminView(s: SessionInfo, full = false): AdminSessionView {
  const v: AdminSessionView = {
    id: s.id, client: s.client, user: s.user, createdAt: iso(s.createdAt), lastAccessAt: iso(s.lastAccessAt), nextTimeout: iso(s.nextTimeout),
  };
  if (full) Object.assign(v, { expiresAt: iso(s.expiresAt), rotation: s.rotation });
  return v;
}

/** Query parameters: each at most once, unknown ones refused (a misspelt filter never lists everyone). */
function queryObject(query: unknown, allowed: string[]): Record<string, string> {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.includes(k)) throw invalid(`Unknown query parameter '${k}'.`, k);
    if (typeof v !== 'string') throw invalid(`'${k}' must be given once.`, k);
  }
  return q as Record<string, string>;
}
