import { TesseraClientError } from './errors.js';
import { errorOf, type SendOptions, type Sent, type Transport } from './transport.js';
import type {
  Answer, ConfirmAnswer, Credentials, HoldAnswer, HoldBody, HoldsList, LoginAnswer, LoginBody, RecordAnswer, RecordList, RecordRead,
  RecordWriteOptions, ReleaseAnswer, RequestBody, SessionApi, SessionView, TransferAnswer,
} from './types.js';

export interface SessionOptions {
  /**
   * The server's grace window in seconds: after a lost answer (a network
   * error) the request is sent again with the same key while this much time
   * has passed since it first went out. @default 10
   */
  graceWindow?: number;
  /** Called whenever the credentials change (each new key, a transfer): store them if you keep them. */
  onCredentials?: (credentials: Credentials) => void;
}

/** Requests that change privilege: the old key has no grace afterwards, so a lost answer is never sent again. */
type Retry = 'grace' | 'never';

const enc = encodeURIComponent;

/**
 * One Tessera session over HTTP. It holds the current key itself: every
 * answer's Session-Key replaces the one held before the next request goes
 * out, and requests are sent one at a time (a queue), so it never presents
 * a key twice by mistake (a replay would revoke the session).
 */
export class TesseraSession implements SessionApi {
  private current: Credentials;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly graceMs: number;

  constructor(private readonly transport: Transport, credentials: Credentials, private readonly options: SessionOptions = {}) {
    this.current = { id: credentials.id, key: credentials.key };
    this.graceMs = (options.graceWindow ?? 10) * 1000;
  }

  get id(): string {
    return this.current.id;
  }

  /** The key the next request will present. */
  get key(): string {
    return this.current.key;
  }

  get credentials(): Credentials {
    return { ...this.current };
  }

  /**
   * Queues one request of this session and answers its JSON body. The key is
   * read when the request goes out, after every earlier answer was applied.
   */
  request<T>(o: SendOptions, retry: Retry = 'grace'): Promise<T> {
    const run = this.tail.then(() => this.exchange(o, retry));
    this.tail = run.catch(() => undefined);
    return run as Promise<T>;
  }

  private async exchange(o: SendOptions, retry: Retry): Promise<unknown> {
    const presented = this.current;
    const started = Date.now();
    let wait = 50;
    for (;;) {
      let sent: Sent;
      try {
        sent = await this.transport.send({ ...o, headers: { ...o.headers, 'session-id': presented.id, 'session-key': presented.key } });
      } catch (e) {
        // The request may or may not have been served. The same key again is either still current (not served)
        // or the one just replaced, which the server accepts within its grace window and answers with the current key.
        const left = this.graceMs - (Date.now() - started) - wait;
        if (retry === 'never' || !(e instanceof TesseraClientError) || e.code !== 'NETWORK_ERROR' || left <= 0) throw e;
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 1000);
        continue;
      }
      this.apply(sent.headers);
      if (sent.status >= 400) throw errorOf(sent);
      return sent.body;
    }
  }

  private apply(headers: Headers): void {
    const id = headers.get('session-id');
    const key = headers.get('session-key');
    if (!key || (id === this.current.id && key === this.current.key)) return;
    this.current = { id: id ?? this.current.id, key };
    this.options.onCredentials?.({ ...this.current });
  }

  // ---- the routes of docs/protocol.md#lifecycle and #users-login-and-roles ----------------------------------------

  get(): Promise<SessionView> {
    return this.request({ method: 'GET', path: '/v1/session' });
  }

  keepAlive(body?: RequestBody<'/v1/session/keepalive', 'post'>): Promise<Answer<'/v1/session/keepalive', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/keepalive', body: body ?? {} });
  }

  end(): Promise<Answer<'/v1/session', 'delete'>> {
    return this.request({ method: 'DELETE', path: '/v1/session' });
  }

  login(body: LoginBody): Promise<LoginAnswer> {
    return this.request({ method: 'POST', path: '/v1/session/login', body }, 'never');
  }

  logout(): Promise<Answer<'/v1/session/logout', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/logout' }, 'never');
  }

  authorize(anyOf: string[]): Promise<Answer<'/v1/session/authorize', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/authorize', body: { anyOf } });
  }

  transfer(): Promise<TransferAnswer> {
    return this.request({ method: 'POST', path: '/v1/session/transfer' }, 'never');
  }

  // ---- records -----------------------------------------------------------------

  putRecord(name: string, value: unknown, options: RecordWriteOptions = {}): Promise<RecordAnswer> {
    const path = `/v1/session/records/${enc(name)}${options.key === undefined ? '' : `/${enc(options.key)}`}`;
    const body = options.ttl === undefined ? { value } : { value, ttl: options.ttl };
    return this.request({ method: 'PUT', path, body, headers: ifMatch(options.ifMatch) });
  }

  getRecord(name: string, key?: string): Promise<RecordRead> {
    return this.request({ method: 'GET', path: `/v1/session/records/${enc(name)}${key === undefined ? '' : `/${enc(key)}`}` });
  }

  listRecords(): Promise<RecordList> {
    return this.request({ method: 'GET', path: '/v1/session/records' });
  }

  deleteRecord(name: string, key?: string, options: { ifMatch?: number } = {}): Promise<Answer<'/v1/session/records/{name}', 'delete'>> {
    const path = `/v1/session/records/${enc(name)}${key === undefined ? '' : `/${enc(key)}`}`;
    return this.request({ method: 'DELETE', path, headers: ifMatch(options.ifMatch) });
  }

  // ---- holds -------------------------------------------------------------------

  hold(body: HoldBody): Promise<HoldAnswer> {
    return this.request({ method: 'POST', path: '/v1/session/holds', body });
  }

  holds(): Promise<HoldsList> {
    return this.request({ method: 'GET', path: '/v1/session/holds' });
  }

  renewHolds(ttl?: number): Promise<Answer<'/v1/session/holds/renew', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/holds/renew', body: ttl === undefined ? {} : { ttl } });
  }

  releaseHolds(resource?: string): Promise<ReleaseAnswer> {
    return this.request({ method: 'DELETE', path: resource === undefined ? '/v1/session/holds' : `/v1/session/holds/${enc(resource)}` });
  }

  confirmHolds(resources?: string[]): Promise<ConfirmAnswer> {
    return this.request({ method: 'POST', path: '/v1/session/holds/confirm', body: resources === undefined ? {} : { resources } });
  }

  // ---- transactions and cursors -----------------------------------------------

  begin(): Promise<Answer<'/v1/session/transactions', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/transactions' });
  }

  commit(): Promise<Answer<'/v1/session/transactions/commit', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/transactions/commit' });
  }

  rollback(options: { all?: boolean } = {}): Promise<Answer<'/v1/session/transactions/rollback', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/transactions/rollback', query: { all: options.all ? 'true' : undefined } });
  }

  openCursor(record: string, pageSize?: number): Promise<Answer<'/v1/session/cursors', 'post'>> {
    return this.request({ method: 'POST', path: '/v1/session/cursors', body: pageSize === undefined ? { record } : { record, pageSize } });
  }

  readCursor(cursor: string, count?: number): Promise<Answer<'/v1/session/cursors/{cursor}', 'get'>> {
    return this.request({ method: 'GET', path: `/v1/session/cursors/${enc(cursor)}`, query: { count: count === undefined ? undefined : String(count) } });
  }

  closeCursor(cursor: string): Promise<Answer<'/v1/session/cursors/{cursor}', 'delete'>> {
    return this.request({ method: 'DELETE', path: `/v1/session/cursors/${enc(cursor)}` });
  }
}

function ifMatch(version: number | undefined): Record<string, string> | undefined {
  return version === undefined ? undefined : { 'if-match': String(version) };
}
