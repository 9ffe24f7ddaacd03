import type { paths } from './openapi.js';

/**
 * Types of requests and answers, read off the generated `paths` (from the
 * served OpenAPI document), so that they cannot drift from the server.
 */
export type { paths, components } from './openapi.js';

export type Path = keyof paths;
export type Method = 'get' | 'post' | 'put' | 'delete';
type Operation<P extends Path, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body an operation takes (`never` when it takes none). */
export type RequestBody<P extends Path, M extends Method> =
  Operation<P, M> extends { requestBody?: infer R } ? NonNullable<R> extends { content: { 'application/json': infer B } } ? B : never : never;

/** The JSON answer of an operation's success (200 or 201). */
export type Answer<P extends Path, M extends Method> =
  Operation<P, M> extends { responses: infer R }
    ? { [S in keyof R]: S extends 200 | 201 | '200' | '201' ? R[S] extends { content: { 'application/json': infer B } } ? B : never : never }[keyof R]
    : never;

/** A session's credentials: the public id and the secret key to send next. */
export interface Credentials {
  id: string;
  key: string;
}

/** Options of POST /v1/sessions. */
export type CreateSessionOptions = RequestBody<'/v1/sessions', 'post'>;
export type CreatedSession = Answer<'/v1/sessions', 'post'>;
export type SessionView = Answer<'/v1/session', 'get'>;
export type LoginBody = RequestBody<'/v1/session/login', 'post'>;
export type LoginAnswer = Answer<'/v1/session/login', 'post'>;
export type HoldBody = RequestBody<'/v1/session/holds', 'post'>;
export type HoldAnswer = Answer<'/v1/session/holds', 'post'>;
export type HoldsList = Answer<'/v1/session/holds', 'get'>;
export type ConfirmAnswer = Answer<'/v1/session/holds/confirm', 'post'>;
export type ReleaseAnswer = Answer<'/v1/session/holds', 'delete'>;
export type RecordAnswer = Answer<'/v1/session/records/{name}', 'put'>;
export type RecordRead = Answer<'/v1/session/records/{name}', 'get'>;
export type RecordList = Answer<'/v1/session/records', 'get'>;
export type TransferAnswer = Answer<'/v1/session/transfer', 'post'>;

/** What a record write may add: an entry key (multiple records), a ttl, If-Match. */
export interface RecordWriteOptions {
  key?: string;
  ttl?: number;
  ifMatch?: number;
}

/**
 * One session's routes, as methods. The HTTP client (TesseraSession) and the
 * middleware's in-process adapter both implement it, so the middleware runs
 * the same flow over either.
 */
export interface SessionApi {
  readonly id: string;
  readonly key: string;
  get(): Promise<SessionView>;
  keepAlive(body?: RequestBody<'/v1/session/keepalive', 'post'>): Promise<Answer<'/v1/session/keepalive', 'post'>>;
  end(): Promise<Answer<'/v1/session', 'delete'>>;
  login(body: LoginBody): Promise<LoginAnswer>;
  logout(): Promise<Answer<'/v1/session/logout', 'post'>>;
  authorize(anyOf: string[]): Promise<Answer<'/v1/session/authorize', 'post'>>;
  /** Moves to a new session (same user, records, live holds); this handle takes the new credentials. */
  transfer(): Promise<TransferAnswer>;
  putRecord(name: string, value: unknown, options?: RecordWriteOptions): Promise<RecordAnswer>;
  getRecord(name: string, key?: string): Promise<RecordRead>;
  listRecords(): Promise<RecordList>;
  deleteRecord(name: string, key?: string, options?: { ifMatch?: number }): Promise<Answer<'/v1/session/records/{name}', 'delete'>>;
  hold(body: HoldBody): Promise<HoldAnswer>;
  holds(): Promise<HoldsList>;
  renewHolds(ttl?: number): Promise<Answer<'/v1/session/holds/renew', 'post'>>;
  releaseHolds(resource?: string): Promise<ReleaseAnswer>;
  confirmHolds(resources?: string[]): Promise<ConfirmAnswer>;
  begin(): Promise<Answer<'/v1/session/transactions', 'post'>>;
  commit(): Promise<Answer<'/v1/session/transactions/commit', 'post'>>;
  rollback(options?: { all?: boolean }): Promise<Answer<'/v1/session/transactions/rollback', 'post'>>;
}
