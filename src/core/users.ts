import { createHash, createHmac, randomBytes } from 'node:crypto';
import { invalid } from './errors.js';
import { MAX_PASSWORD_LENGTH } from './passwords.js';

/** A user as the store keeps it (times in ms since the epoch). */
export interface StoredUser {
  name: string;
  /** An argon2id PHC string; never leaves the server. */
  passwordHash: string;
  roles: string[];
  createdAt: number;
  updatedAt: number;
}

/** What an admin asks to change; absent fields stay as they are. */
export interface UserChange {
  passwordHash?: string;
  roles?: string[];
  /** Only create: leave an existing user untouched (seeding). */
  ifAbsent?: boolean;
}

// eslint-disable-next-line no-control-regex
/** A user or role name (code points, hence the u flag). */
export const USER_NAME = /^[^\u0000-\u001f\u007f-\u009f]{1,128}$/u;
export const MAX_ROLES = 64;
/** The admin listing of sessions (`GET /v1/admin/sessions?limit=`): its page size when absent, and the most. */
export const SESSION_PAGE = 100;
export const MAX_SESSION_PAGE = 1000;

/** A user or role name: 1 to 128 characters, no control characters. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && USER_NAME.test(name);
}

export function username(name: unknown, field = 'username'): string {
  if (!isValidName(name)) throw invalid('A username is 1 to 128 characters, with no control characters.', field);
  return name;
}

/** A list of role names: deduplicated, order kept. */
export function roleList(roles: unknown, field = 'roles'): string[] {
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every(isValidName)) {
    throw invalid(`'${field}' must be a list of at most ${MAX_ROLES} role names (1 to 128 characters, no control characters).`, field);
  }
  return [...new Set(roles as string[])];
}

export function password(value: unknown, field = 'password'): string {
  if (typeof value !== 'string' || value.length > MAX_PASSWORD_LENGTH) {
    throw invalid(`'${field}' must be a string of at most ${MAX_PASSWORD_LENGTH} characters.`, field);
  }
  return value;
}

export function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

// ---- login throttling -------------------------------------------------------

/** The config's `login` and `clients`, as the throttles read them (config.ts imports this file). */
interface ThrottleConfig {
  login: {
    maxFailures: number; window: number; userMaxFailures: number; userWindow: number;
    sourceMaxFailures: number; sourceWindow: number; secret?: string;
  };
  clients: readonly { token: string }[];
}

export interface ThrottleRule {
  maxFailures: number;
  windowMs: number;
}

/** Counters sharing one rule: an attempt is logged in each, or refused if one of them is throttled. */
export interface ThrottleCounters {
  keys: string[];
  rule: ThrottleRule;
}

/**
 * The throttle counters of one login attempt, as OWASP's authentication
 * cheat sheet has them: per username *and* source address, and per session
 * (the fast curve: `maxFailures` in `window`), so a stranger elsewhere cannot
 * lock a user out; per username from anywhere (the slower curve), against a
 * guess spread over many addresses; per source address across usernames,
 * against spraying. Every counter must allow the attempt.
 *
 * The keys are keyed hashes (HMAC-SHA-256 with the throttle secret), never
 * the attempted name in clear: a password typed into the username field is
 * not kept anywhere.
 */
export function loginThrottles(secret: Buffer, login: ThrottleConfig['login'], name: string, sessionId: string, source: string): ThrottleCounters[] {
  const key = (kind: string, ...parts: string[]) => `${kind}:${createHmac('sha256', secret).update(JSON.stringify(parts)).digest('base64url')}`;
  return [
    { keys: [key('user-source', name, source), key('session', sessionId)], rule: { maxFailures: login.maxFailures, windowMs: login.window * 1000 } },
    { keys: [key('user', name)], rule: { maxFailures: login.userMaxFailures, windowMs: login.userWindow * 1000 } },
    { keys: [key('source', source)], rule: { maxFailures: login.sourceMaxFailures, windowMs: login.sourceWindow * 1000 } },
  ];
}

/**
 * The throttle secret: `login.secret` when set; else one derived from the
 * client tokens (every node of a deployment has the same config, so the same
 * secret, and the store never sees a token); else (open mode) random per
 * process. See docs/outages-and-limits.md.
 */
export function throttleSecret(config: ThrottleConfig): Buffer {
  if (config.login.secret) return createHash('sha256').update(`tessera-throttle\0${config.login.secret}`).digest();
  if (config.clients.length > 0) {
    const tokens = config.clients.map((c) => c.token).sort();
    return createHash('sha256').update(`tessera-throttle\0${JSON.stringify(tokens)}`).digest();
  }
  return randomBytes(32);
}

/**
 * A sliding log of attempt times (newest last, at most `maxFailures`). A
 * login attempt counts as a failure from the moment it starts (so parallel
 * attempts cannot slip past the limit) and is taken back if it succeeds.
 *
 * Throttled when `maxFailures` attempts fall within the window: until the
 * oldest of them leaves it. Attempts refused while throttled are not logged,
 * so the wait announced in Retry-After holds.
 */
export function throttleWait(log: readonly number[], now: number, rule: ThrottleRule): number {
  const recent = log.filter((t) => t > now - rule.windowMs);
  if (recent.length < rule.maxFailures) return 0;
  return recent[recent.length - rule.maxFailures] + rule.windowMs - now;
}

/** The log after an attempt at `now`, trimmed to what can still matter. */
export function logAttempt(log: readonly number[], now: number, rule: ThrottleRule): number[] {
  return [...log.filter((t) => t > now - rule.windowMs), now].slice(-rule.maxFailures);
}

/** The log without one attempt at `at` (it succeeded). */
export function forgetAttempt(log: readonly number[], at: number): number[] {
  const i = log.lastIndexOf(at);
  return i < 0 ? [...log] : [...log.slice(0, i), ...log.slice(i + 1)];
}

/** When a log stops mattering: its newest attempt leaves the window. */
export function logExpiry(log: readonly number[], rule: ThrottleRule): number {
  return log.length === 0 ? 0 : log[log.length - 1] + rule.windowMs;
}
