import type { RecordWrite, StoredRecord } from '../../core/records.js';
import type { SessionInfo, SessionUser } from '../../core/session.js';
import type { StoredClaim, StoredHold } from '../../core/holds.js';
import type { Arg, Reply } from './client.js';

/**
 * How the Redis engine writes what it stores, in one place on the Node side.
 * The Lua side reads and writes the same strings: lua/lib/record.lua (records),
 * lua/lib/fields.lua (a session's fields), lua/lib/hold.lua (holds), the
 * claim strings in lua/holds/confirm.lua. test/redis-lua.test.ts holds the
 * record codec of both sides together.
 */

/**
 * A record: `kind|version|updatedAt|ttlMs|expiresAt|value`, kind `s` (single)
 * or `m` (multiple), ttlMs and expiresAt empty when none. The value is last
 * and taken whole, so it may hold any character.
 */
export function encodeRecord(r: Pick<StoredRecord, 'kind' | 'version' | 'updatedAt' | 'ttlMs' | 'expiresAt' | 'value'>): string {
  return `${r.kind === 'single' ? 's' : 'm'}|${r.version}|${r.updatedAt}|${r.ttlMs ?? ''}|${r.expiresAt ?? ''}|${r.value}`;
}

/** A record read back: its name, its entry key as stored ('' for a single record) and its encoding. */
export function decodeRecord(name: string, key: string, enc: string): StoredRecord {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const bar = enc.indexOf('|', at);
    parts.push(enc.slice(at, bar));
    at = bar + 1;
  }
  return {
    name, key: key === '' ? null : key, kind: parts[0] === 's' ? 'single' : 'multiple', value: enc.slice(at),
    version: Number(parts[1]), updatedAt: Number(parts[2]),
    ttlMs: parts[3] === '' ? null : Number(parts[3]), expiresAt: parts[4] === '' ? null : Number(parts[4]),
  };
}

/** A cursor's item: `key\0encoded record` (key '' for a single record). */
export function encodeItem(r: StoredRecord): string {
  return `${r.key ?? ''}\0${encodeRecord(r)}`;
}

export function decodeItem(name: string, item: string): StoredRecord {
  const cut = item.indexOf('\0');
  return decodeRecord(name, item.slice(0, cut), item.slice(cut + 1));
}

/** put_record's ARGV (lua/lib/put_record.lua): name, key, kind, value, ttlMs, ifVersion, maxEntries, maxRecords, maxRecordBytes. */
export function writeArgs(w: RecordWrite): Arg[] {
  return [w.name, w.key ?? '', w.kind, w.value, w.ttlMs ?? '', w.ifVersion ?? '', w.maxEntries, w.maxRecords, w.maxRecordBytes];
}

/** The record put_record wrote: its {'ok', version, updatedAt, expiresAt} at res[at]. */
export function writtenRecord(w: RecordWrite, res: Reply[], at: number): StoredRecord {
  return {
    name: w.name, key: w.key, kind: w.kind, value: w.value, version: Number(res[at + 1]), updatedAt: Number(res[at + 2]),
    ttlMs: w.ttlMs, expiresAt: res[at + 3] === '' ? null : Number(res[at + 3]),
  };
}

/** A session's fields as the scripts answer them (lua/lib/fields.lua's order). */
export function decodeSession(id: string, f: Reply[]): SessionInfo {
  return {
    id, client: f[0], rotation: f[1], queue: f[2] === '1', idleTimeout: Number(f[3]), lifespan: Number(f[4]),
    createdAt: Number(f[5]), lastAccessAt: Number(f[6]), nextTimeout: Number(f[7]), expiresAt: Number(f[8]),
    user: f[9] ? JSON.parse(f[9]) as SessionUser : null,
  };
}

/** A session's fields for create.lua and put.lua: client ... user, then the user's name. */
export function sessionArgs(s: SessionInfo): Arg[] {
  return [s.client, s.rotation, s.queue ? '1' : '0', s.idleTimeout, s.lifespan, s.createdAt, s.lastAccessAt, s.nextTimeout, s.expiresAt,
    s.user ? JSON.stringify(s.user) : '', s.user?.name ?? ''];
}

/** A hold as stored (lua/lib/hold.lua): `token|expiresAt|quantity|announced|sessionExpiry`. */
export function decodeHold(name: string, sessionId: string, v: string): StoredHold {
  const [token, exp, qty] = v.split('|');
  return { name, sessionId, quantity: qty === '' ? null : Number(qty), token: Number(token), expiresAt: Number(exp) };
}

/** A claim as stored (lua/holds/confirm.lua): `token|quantity|confirmedAt`. */
export function decodeClaim(name: string, sessionId: string, v: string): StoredClaim {
  const [token, qty, at] = v.split('|');
  return { name, sessionId, quantity: qty === '' ? null : Number(qty), token: Number(token), confirmedAt: Number(at) };
}
