import { iso, type Clock } from '../core/clock.js';
import { invalid, TesseraError } from '../core/errors.js';
import { bodyObject } from '../core/input.js';
import { hashKey, isWellFormedId, newSalt, newSessionKey } from '../core/keys.js';
import { dummyHash, hashPassword, verifyPassword } from '../core/passwords.js';
import type { SessionInfo, SessionUser } from '../core/session.js';
import { password, roleList, throttleKeys, username, type StoredUser } from '../core/users.js';
import type { TesseraConfig } from '../core/config.js';
import type { KeyRotation, SessionStore } from '../store/contract.js';
import type { SessionContext } from './context.js';

/** What the users use cases need from the service around them. */
export interface UsersDeps {
  store: SessionStore;
  config: Readonly<TesseraConfig>;
  clock: Clock;
  /** `user`: the session's when undefined; null for none. */
  emit(type: 'user.login' | 'user.logout' | 'user.login_failed', session: SessionInfo, user?: string | null): void;
  /** Sessions the store just ended: forget them and emit `session.ended`. */
  ended(sessions: SessionInfo[]): void;
  /** Ends one session (emitting `session.ended`); false when it was gone. */
  endSession(id: string): Promise<boolean>;
  /** Accepts the context's current key again, rotating it as any request would. */
  reauthenticate(ctx: SessionContext): Promise<SessionContext>;
  /** Releases every hold of the session (logout). */
  releaseHolds(ctx: SessionContext): Promise<unknown>;
}

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

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * Section 8 (users, login, roles) and the per-user administration of section
 * 11. Login and logout are privilege changes: a fresh key with no grace for
 * the old one, in one store step. The caller authenticated the session
 * without rotating (`rotate: false`), so a failed login changes nothing.
 */
export class Users {
  private seeding: Promise<void> | null = null;

  constructor(private readonly deps: UsersDeps) {}

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
    const { store, config } = this.deps;
    for (const u of config.users) {
      if (await store.getUser(u.name)) continue;
      await store.putUser(u.name, { passwordHash: await hashPassword(u.password), roles: [...u.roles], ifAbsent: true });
    }
  }

  // ---- the session's own routes ----------------------------------------------

  /** `POST /v1/session/login`. Updates `ctx` (session, key) when the privilege changes. */
  async login(ctx: SessionContext, body: unknown): Promise<{ user: SessionUser }> {
    const b = bodyObject(body, ['username', 'password', 'anonymous']);
    if (b.anonymous !== undefined) {
      if (b.anonymous !== true) throw invalid("'anonymous' must be true.", 'anonymous');
      if (b.username !== undefined || b.password !== undefined) throw invalid("An anonymous login takes no 'username' or 'password'.", 'anonymous');
      const anonymous = this.deps.config.anonymousUser;
      return this.changeUser(ctx, { name: anonymous.name, roles: [...anonymous.roles] });
    }
    const name = username(b.username);
    const secret = password(b.password);
    await this.seed();
    const { store, config } = this.deps;
    const keys = throttleKeys(name, ctx.session.id);
    const attempt = await store.takeLoginAttempt(keys, { maxFailures: config.login.maxFailures, windowMs: config.login.window * 1000 });
    if (attempt.waitMs > 0) {
      Object.assign(ctx, await this.deps.reauthenticate(ctx));
      throw new TesseraError('LOGIN_THROTTLED', undefined, { retryAfter: Math.ceil(attempt.waitMs / 1000) });
    }
    // One argon2 verification either way: an unknown user costs what a wrong password does.
    const user = await store.getUser(name);
    const verified = await verifyPassword(user?.passwordHash ?? await dummyHash(), secret);
    if (!user || !verified) return this.failed(ctx, user);
    const next = newKey();
    const result = await store.loginUser(ctx.session.id, next.rotation, name, user.passwordHash);
    if (result.outcome === 'user_changed') return this.failed(ctx, null);
    if (result.outcome === 'session_gone') throw new TesseraError('SESSION_INVALID');
    await store.settleLoginAttempt(keys, attempt.at);
    Object.assign(ctx, { session: result.session, key: next.key });
    this.deps.emit('user.login', result.session);
    return { user: { name, roles: [...result.session.user!.roles] } };
  }

  private failed(ctx: SessionContext, user: StoredUser | null): never {
    // The attempted name is told only when it is a user's (a password typed into the username field stays out).
    this.deps.emit('user.login_failed', ctx.session, user?.name ?? null);
    throw new TesseraError('LOGIN_FAILED');
  }

  /** `POST /v1/session/logout`: the user cleared, a new key with no grace. */
  async logout(ctx: SessionContext): Promise<{ message: 'success' }> {
    const before = ctx.session.user;
    await this.deps.releaseHolds(ctx);
    const next = newKey();
    const session = await this.deps.store.changePrivilege(ctx.session.id, next.rotation, null);
    if (!session) throw new TesseraError('SESSION_INVALID');
    Object.assign(ctx, { session, key: next.key });
    if (before) this.deps.emit('user.logout', session, before.name);
    return { message: 'success' };
  }

  /** `POST /v1/session/authorize`: does the session's user have any of these roles? */
  authorize(ctx: SessionContext, body: unknown): { allowed: boolean } {
    const b = bodyObject(body, ['anyOf']);
    const wanted = roleList(b.anyOf, 'anyOf');
    const have = ctx.session.user?.roles ?? [];
    return { allowed: wanted.some((r) => have.includes(r)) };
  }

  private async changeUser(ctx: SessionContext, user: SessionUser): Promise<{ user: SessionUser }> {
    const next = newKey();
    const session = await this.deps.store.changePrivilege(ctx.session.id, next.rotation, user);
    if (!session) throw new TesseraError('SESSION_INVALID');
    Object.assign(ctx, { session, key: next.key });
    this.deps.emit('user.login', session);
    return { user };
  }

  // ---- administration ----------------------------------------------------------

  async list(): Promise<{ users: UserView[] }> {
    await this.seed();
    return { users: (await this.deps.store.listUsers()).map(userView) };
  }

  async get(name: unknown): Promise<UserView> {
    const n = username(name, 'name');
    await this.seed();
    const user = await this.deps.store.getUser(n);
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
    const result = await this.deps.store.putUser(n, { passwordHash: secret === undefined ? undefined : await hashPassword(secret), roles });
    if (!result.user) throw invalid('A new user needs a password.', 'password');
    this.deps.ended(result.ended);
    return userView(result.user);
  }

  /** `DELETE /v1/admin/users/{name}`: removes the user and ends its sessions. */
  async remove(name: unknown): Promise<{ deleted: true; ended: number }> {
    const n = username(name, 'name');
    await this.seed();
    const result = await this.deps.store.deleteUser(n);
    if (!result.deleted) throw new TesseraError('USER_NOT_FOUND');
    this.deps.ended(result.ended);
    return { deleted: true, ended: result.ended.length };
  }

  private newUsername(name: unknown): string {
    const n = username(name, 'name');
    if (n === this.deps.config.anonymousUser.name) throw invalid(`'${n}' is the anonymous user's name.`, 'name');
    return n;
  }

  /** `GET /v1/admin/sessions?user=&limit=&after=`: a page of live sessions, in id order. */
  async sessions(query: unknown): Promise<{ sessions: AdminSessionView[]; next: string | null }> {
    const q = queryObject(query, ['user', 'limit', 'after']);
    const user = q.user === undefined ? null : username(q.user, 'user');
    const limit = q.limit === undefined ? DEFAULT_PAGE : pageSize(q.limit);
    const after = q.after === undefined || q.after === '' ? null : q.after;
    if (after !== null && !isWellFormedId(after)) throw invalid("'after' must be the 'next' of a previous page.", 'after');
    const page = await this.deps.store.listSessions(user, after, limit + 1);
    const more = page.length > limit;
    const sessions = page.slice(0, limit).map((s) => adminView(s));
    return { sessions, next: more ? sessions[sessions.length - 1].id : null };
  }

  /** `DELETE /v1/admin/sessions?user=`: ends every session of a user. */
  async endSessionsOf(query: unknown): Promise<{ ended: number }> {
    const q = queryObject(query, ['user']);
    if (q.user === undefined) throw invalid("'user' is required: name the user whose sessions to end.", 'user');
    const ended = await this.deps.store.endUserSessions(username(q.user, 'user'));
    this.deps.ended(ended);
    return { ended: ended.length };
  }

  /** `GET /v1/admin/sessions/{id}`, without touching the session. */
  async session(id: unknown): Promise<AdminSessionView> {
    const found = isWellFormedId(id) ? await this.deps.store.getSession(id) : null;
    if (!found) throw new TesseraError('SESSION_NOT_FOUND');
    return adminView(found, true);
  }

  /** `DELETE /v1/admin/sessions/{id}`. */
  async endSession(id: unknown): Promise<{ message: 'success' }> {
    if (!isWellFormedId(id) || !(await this.deps.store.getSession(id)) || !(await this.deps.endSession(id))) {
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

function pageSize(text: string): number {
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE) throw invalid(`'limit' must be a whole number from 1 to ${MAX_PAGE}.`, 'limit');
  return Number(text);
}
