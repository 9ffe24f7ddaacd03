import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Session ids and keys. The id is public (128 random bits); the key is the
 * credential (256 random bits). Only SHA-256 hashes of keys are ever stored.
 *
 * A rotated key is derived from the key it replaces and a fresh random salt:
 * next = HMAC-SHA256(previousKey, salt). The store keeps the salt (not a
 * secret) next to the hashes, so that a request presenting the key just
 * replaced, inside the grace window, can be answered with the current key
 * without the store ever holding a key in the clear: only the holder of the
 * previous key can recompute it.
 */
const ID_BYTES = 16;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// One CSPRNG call fills a pool that many ids, keys and salts are cut from:
// a call per value costs more than the rest of a request's crypto together.
const POOL_BYTES = 8192;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

function random(bytes: number): Buffer {
  if (offset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    offset = 0;
  }
  const out = pool.subarray(offset, offset + bytes);
  offset += bytes;
  return out;
}

export function newSessionId(): string {
  return random(ID_BYTES).toString('base64url');
}

export function newSessionKey(): string {
  return random(KEY_BYTES).toString('base64url');
}

export function newSalt(): Buffer {
  return Buffer.from(random(SALT_BYTES));
}

// crypto.hash (Node >= 20.12; package.json asks for 20.14) digests in one call, without a Hash object.
const BLOCK = 64; // SHA-256's block size, for HMAC's pads (RFC 2104)

/**
 * HMAC-SHA256(previousKey, salt), computed as RFC 2104 spells it out with two
 * one-shot digests: a Hmac object costs about three times as much.
 */
export function deriveKey(previousKey: string, salt: Buffer): string {
  let k: Buffer = Buffer.from(previousKey);
  if (k.length > BLOCK) k = hash('sha256', k, 'buffer');
  const inner = Buffer.allocUnsafe(BLOCK + salt.length);
  const outer = Buffer.allocUnsafe(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i] : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  salt.copy(inner, BLOCK);
  hash('sha256', inner, 'buffer').copy(outer, BLOCK);
  return hash('sha256', outer, 'base64url');
}

export function hashKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export function isWellFormedId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

export function isWellFormedKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_PATTERN.test(key);
}

/** Constant-time equality of two hashes (false when lengths differ). */
export function sameHash(a: Buffer | null | undefined, b: Buffer): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
