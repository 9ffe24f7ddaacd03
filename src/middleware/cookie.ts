import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credentials } from '../client/types.js';

/**
 * The site's cookie: `<session id>.<key>.<HMAC-SHA256 of both under the site
 * secret>`, nothing else. The id and key are url-safe base64 (no '.'); the
 * signature means the site never presents credentials it did not issue, so
 * a forged or altered cookie costs no Tessera call at all.
 */

const PART = /^[A-Za-z0-9_-]{1,128}$/;

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function sealCredentials(secret: string, c: Credentials): string {
  const payload = `${c.id}.${c.key}`;
  return `${payload}.${sign(secret, payload)}`;
}

/** The credentials of a cookie value signed with any of `secrets` (the first signs; older ones still verify), else null. */
export function openCredentials(secrets: readonly string[], value: string | undefined): Credentials | null {
  if (!value) return null;
  const parts = value.split('.');
  if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return null;
  const [id, key, mac] = parts;
  const given = Buffer.from(mac, 'base64url');
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, `${id}.${key}`), 'base64url');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { id, key };
  }
  return null;
}

/** One cookie's value from a Cookie header (the first of that name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return v;
  }
  return undefined;
}

export interface CookieOptions {
  /** @default 'tessera' */
  name?: string;
  /** @default '/' */
  path?: string;
  domain?: string;
  /** 'auto': Secure when the request came over HTTPS. @default 'auto' */
  secure?: boolean | 'auto';
  /** @default 'Lax' */
  sameSite?: 'Lax' | 'Strict';
  /** Seconds; absent: a browser-session cookie (Tessera's idle timeout ends the session itself). */
  maxAge?: number;
}

export function serializeCookie(o: CookieOptions, value: string, https: boolean, clear = false): string {
  const parts = [`${o.name ?? 'tessera'}=${value}`, `Path=${o.path ?? '/'}`, 'HttpOnly', `SameSite=${o.sameSite ?? 'Lax'}`];
  if (o.domain) parts.push(`Domain=${o.domain}`);
  if (o.secure === true || ((o.secure ?? 'auto') === 'auto' && https)) parts.push('Secure');
  if (clear) parts.push('Max-Age=0');
  else if (o.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(o.maxAge)}`);
  return parts.join('; ');
}
