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

/** A user or role name: 1 to 128 characters, no control characters. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && USER_NAME.test(name) && [...name].length <= 128;
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

/** The throttle counters of one login: per username and per session (both must allow). */
export function throttleKeys(name: string, sessionId: string): string[] {
  return [`user:${name}`, `session:${sessionId}`];
}

export interface ThrottleRule {
  maxFailures: number;
  windowMs: number;
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
