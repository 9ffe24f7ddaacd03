/**
 * tessera/express-session: a Store for express-session, so that an app moves
 * its sessions into Tessera by changing one line:
 *
 *   app.use(session({ secret, store: new TesseraStore({ tessera }) }))   // or { url, token }
 *
 * Each express session is a Tessera session of its own; each top-level field
 * of `req.session` is one entry of its record `fields`, written on its own.
 * A save writes only the fields this request changed (it compares them with
 * fingerprints taken when the session was loaded, kept in the session as
 * `__tessera`), so two concurrent requests of one session that change
 * different fields both keep their change: the lost update of express-session's
 * own stores (which write the whole object back) does not happen. Two requests
 * that change the same field: the last write wins, as before.
 *
 * express-session names sessions by its own id (sid); the store keeps the
 * sid -> Tessera credentials map in a directory: one more Tessera session,
 * whose credentials are kept in a file (`directoryFile`) or given.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import session from 'express-session';
import { isTesseraError } from '../client/errors.js';
import type { Credentials, SessionApi } from '../client/types.js';
import { backendOf, type Backend, type BackendOptions } from './backend.js';

export interface TesseraStoreOptions extends BackendOptions {
  /**
   * Where the directory session's credentials are kept between restarts.
   * @default './data/tessera-express-session.json'
   */
  directoryFile?: string;
  /** The directory session's credentials (instead of the file). */
  directory?: Credentials;
  /**
   * Directory records (each holds up to 1000 sids unless the server declares more). The directory is one
   * session, so the server's session.maxRecordBytes bounds it too (about 85 bytes per sid: ~12,000 with the
   * default 1 MiB). @default 64
   */
  directoryShards?: number;
  /** Idle timeout of a new session, seconds, when the cookie has no maxAge. @default 1800 */
  idleTimeout?: number;
}

/**
 * The records the store writes entries to, declared `multiple` as the server
 * must declare them (a record the config does not declare is `single`):
 * `fields`, and the directory's `sids.0` ... `sids.{shards-1}`. Spread it into
 * the config's `records`, in-process (`new Tessera({ config: { records:
 * { ...tesseraStoreRecords() } } })`) or in a server's config file.
 */
export function tesseraStoreRecords(shards = 64): Record<string, { kind: 'multiple' }> {
  const records: Record<string, { kind: 'multiple' }> = { [FIELDS]: { kind: 'multiple' } };
  for (let i = 0; i < shards; i++) records[`sids.${i}`] = { kind: 'multiple' };
  return records;
}

type Callback<T = void> = (err?: unknown, value?: T) => void;
type Data = session.SessionData & { __tessera?: Record<string, string> };

const FIELDS = 'fields';
/** The fingerprint of a field's value as loaded: a save writes the fields whose fingerprint changed. */
const print = (v: unknown) => createHash('sha256').update(JSON.stringify(v) ?? 'undefined').digest('base64url').slice(0, 16);

export class TesseraStore extends session.Store {
  private readonly backend: Backend;
  private readonly options: TesseraStoreOptions;
  private directory: Promise<SessionApi> | null = null;
  /** sid -> its session handle (the handle keeps the key; on-privilege-change rotation keeps it constant anyway). */
  private readonly handles = new Map<string, SessionApi>();

  constructor(options: TesseraStoreOptions) {
    super();
    this.options = options;
    this.backend = backendOf(options, 'TesseraStore');
  }

  // ---- express-session's Store --------------------------------------------------

  override get(sid: string, cb: Callback<session.SessionData | null>): void {
    this.run(cb, async () => {
      const s = await this.find(sid);
      if (!s) return null;
      const fields = await this.fields(s);
      if (fields === null) {
        // Its Tessera session ended (idle timeout, lifespan, an admin): forget the sid.
        this.handles.delete(sid);
        await deleteEntry(await this.dir(), sid, this.shard(sid));
        return null;
      }
      if (!('cookie' in fields)) return null;
      const data = { ...fields } as unknown as Data;
      data.__tessera = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, print(v)]));
      return data;
    });
  }

  override set(sid: string, sess: session.SessionData, cb?: Callback): void {
    this.run(cb, async () => {
      const { __tessera: loaded, ...fields } = sess as Data;
      const plain = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
      let s = await this.find(sid);
      if (!s) s = await this.createFor(sid, sess);
      for (const [k, v] of Object.entries(plain)) {
        if (loaded && loaded[k] === print(v)) continue; // unchanged by this request: leave others' writes alone
        await s.putRecord(FIELDS, v, { key: k });
      }
      if (loaded) {
        for (const k of Object.keys(loaded)) if (!(k in plain)) await deleteEntry(s, k);
      }
    });
  }

  override destroy(sid: string, cb?: Callback): void {
    this.run(cb, async () => {
      const s = await this.find(sid);
      this.handles.delete(sid);
      if (s) {
        try {
          await s.end();
        } catch (e) {
          if (!isTesseraError(e, 'SESSION_INVALID')) throw e;
        }
      }
      const dir = await this.dir();
      await deleteEntry(dir, sid, this.shard(sid));
    });
  }

  override touch(sid: string, _sess: session.SessionData, cb?: Callback): void {
    this.run(cb, async () => {
      const s = await this.find(sid);
      if (s) await s.keepAlive({});
    });
  }

  override all(cb: (err: unknown, obj?: session.SessionData[] | { [sid: string]: session.SessionData } | null) => void): void {
    this.run(cb, async () => {
      const out: Record<string, session.SessionData> = {};
      for (const sid of await this.sids()) {
        const s = await this.find(sid);
        const fields = s && await this.fields(s);
        if (fields && 'cookie' in fields) out[sid] = fields as unknown as session.SessionData;
      }
      return out;
    });
  }

  override length(cb: (err: unknown, length?: number) => void): void {
    this.all((err, all) => cb(err, all ? Object.keys(all).length : undefined));
  }

  override clear(cb?: Callback): void {
    this.run(cb, async () => {
      for (const sid of await this.sids()) await new Promise<void>((resolve, reject) => this.destroy(sid, (e) => (e ? reject(e) : resolve())));
    });
  }

  // ---- the directory: sid -> Tessera credentials ---------------------------------

  private readonly pending = new Set<Promise<unknown>>();

  private run<T>(cb: ((err?: unknown, value?: T) => void) | undefined, work: () => Promise<T>): void {
    const p = work();
    this.pending.add(p);
    p.finally(() => this.pending.delete(p)).catch(() => {});
    p.then((v) => cb?.(null, v), (e) => cb?.(e));
  }

  /**
   * Resolves once every operation begun so far has finished (before a
   * shutdown; in tests). express-session writes an answer's body before its
   * save has finished, so a client may send its next request before then.
   */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private shard(sid: string): string {
    const n = this.options.directoryShards ?? 64;
    return `sids.${createHash('sha256').update(sid).digest().readUInt32BE(0) % n}`;
  }

  private dir(): Promise<SessionApi> {
    this.directory ??= this.openDirectory().catch((e) => {
      this.directory = null;
      throw e;
    });
    return this.directory;
  }

  private async openDirectory(): Promise<SessionApi> {
    const file = this.options.directoryFile ?? './data/tessera-express-session.json';
    let creds = this.options.directory ?? null;
    if (!creds) {
      try {
        creds = JSON.parse(readFileSync(file, 'utf8')) as Credentials;
      } catch {
        creds = null;
      }
    }
    if (creds) {
      const s = this.backend.open(creds);
      try {
        await s.get();
        return s;
      } catch (e) {
        if (!isTesseraError(e, 'SESSION_INVALID')) throw e;
      }
    }
    // A long-lived session that never rotates its key (no logins happen in it).
    const s = await this.backend.create({ rotation: 'on-privilege-change', idleTimeout: 86_400 * 365, lifespan: 86_400 * 3650 });
    if (!this.options.directory) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ id: s.id, key: s.key }), { mode: 0o600 });
    }
    return s;
  }

  /** The Tessera session of a sid, or null when it has none or it ended. */
  private async find(sid: string): Promise<SessionApi | null> {
    const known = this.handles.get(sid);
    if (known) return known;
    const dir = await this.dir();
    let creds: Credentials;
    try {
      creds = (await dir.getRecord(this.shard(sid), sid) as { value: Credentials }).value;
    } catch (e) {
      if (isTesseraError(e, 'RECORD_NOT_FOUND')) return null;
      throw e;
    }
    const s = this.backend.open(creds);
    this.handles.set(sid, s);
    if (this.handles.size > 10_000) this.handles.delete(this.handles.keys().next().value!);
    return s;
  }

  private async createFor(sid: string, sess: session.SessionData): Promise<SessionApi> {
    const maxAge = sess.cookie?.maxAge;
    const idle = Math.max(1, Math.ceil(typeof maxAge === 'number' && maxAge > 0 ? maxAge / 1000 : this.options.idleTimeout ?? 1800));
    const s = await this.backend.create({ rotation: 'on-privilege-change', idleTimeout: idle });
    const dir = await this.dir();
    // No ttl: the entry goes when get() finds the session gone, or with destroy().
    await dir.putRecord(this.shard(sid), { id: s.id, key: s.key }, { key: sid });
    this.handles.set(sid, s);
    return s;
  }

  /** The session's fields ({} when none yet), or null when the Tessera session is gone. */
  private async fields(s: SessionApi): Promise<Record<string, unknown> | null> {
    try {
      const r = await s.getRecord(FIELDS) as { entries?: { key: string; value: unknown }[] };
      return Object.fromEntries((r.entries ?? []).map((e) => [e.key, e.value]));
    } catch (e) {
      if (isTesseraError(e, 'RECORD_NOT_FOUND')) return {};
      if (isTesseraError(e, 'SESSION_INVALID')) return null;
      throw e;
    }
  }

  private async sids(): Promise<string[]> {
    const dir = await this.dir();
    const out: string[] = [];
    for (let i = 0; i < (this.options.directoryShards ?? 64); i++) {
      try {
        const r = await dir.getRecord(`sids.${i}`) as { entries?: { key: string }[] };
        for (const e of r.entries ?? []) out.push(e.key);
      } catch (e) {
        if (!isTesseraError(e, 'RECORD_NOT_FOUND')) throw e;
      }
    }
    return out;
  }
}

async function deleteEntry(s: SessionApi, key: string, record = FIELDS): Promise<void> {
  try {
    await s.deleteRecord(record, key);
  } catch (e) {
    if (!isTesseraError(e, 'RECORD_NOT_FOUND') && !isTesseraError(e, 'SESSION_INVALID')) throw e;
  }
}

export default TesseraStore;
