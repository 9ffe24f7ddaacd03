import { ConfigError } from '../../core/config.js';

/** The key prefix of a Redis store that names none. */
export const DEFAULT_PREFIX = 'tessera';

/**
 * The key prefix of a Redis store, from its URL's `?prefix=` or its options:
 * `tessera` when absent, else 1 to 64 of A-Z a-z 0-9 _ . : - (never a brace:
 * the keys' hash tags are in braces). No driver here: store/open.ts reads it
 * without loading the engine.
 */
export function redisPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new ConfigError('store: prefix is 1 to 64 of A-Z a-z 0-9 _ . : -');
  return prefix;
}
