import { timingSafeEqual } from 'node:crypto';
import type { ClientConfig } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { hashKey as sha256 } from '../core/keys.js';
import type { Client } from '../service/tessera.js';

/** The client every request is in open mode (no clients configured; loopback only). */
const OPEN_MODE_CLIENT: Client = Object.freeze({ id: 'local', roles: Object.freeze(['app', 'admin', 'portal'] as const) });

/**
 * Recognises API clients by their bearer token. Tokens are kept only as
 * SHA-256 hashes and compared in constant time against every client.
 */
export function clientAuthenticator(clients: readonly ClientConfig[]): (authorization: string | undefined) => Client {
  if (clients.length === 0) return () => OPEN_MODE_CLIENT;
  const known = clients.map((c) => ({ hash: sha256(c.token), client: Object.freeze({ id: c.id, roles: Object.freeze([...c.roles]) }) }));
  return (authorization) => {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization ?? '');
    if (!match) throw new TesseraError('CLIENT_UNAUTHORIZED');
    const presented = sha256(match[1]);
    let found: Client | null = null;
    for (const k of known) if (timingSafeEqual(k.hash, presented) && !found) found = k.client;
    if (!found) throw new TesseraError('CLIENT_UNAUTHORIZED');
    return found;
  };
}
