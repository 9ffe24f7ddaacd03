import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';

/**
 * Password hashing: argon2id at OWASP's recommended minimum (Password Storage
 * Cheat Sheet: m = 19 MiB, t = 2, p = 1). The hash is a PHC string that
 * carries its own salt and parameters, so `verify` needs nothing else.
 * Hashing runs on libuv's thread pool, never on the event loop.
 */
const ARGON2_PARAMETERS = Object.freeze({
  type: argon2.argon2id,
  memoryCost: 19 * 1024, // KiB
  timeCost: 2,
  parallelism: 1,
});

/** The longest password accepted; argon2 takes any length, a bound keeps a request's cost bounded. */
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_PARAMETERS);
}

/** True when `password` matches `hash`; false for a wrong password or a hash that cannot be read. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * A hash of a random password at the same parameters, to verify against when
 * the user does not exist: both failures then cost one argon2 verification,
 * so timing does not tell an unknown user from a wrong password.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomUUID());
  return dummy;
}
