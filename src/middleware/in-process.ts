import { TesseraError } from '../core/errors.js';
import { acceptedContext, Rekeyed, type Client, type SessionContext } from '../service/context.js';
import type { Tessera } from '../service/tessera.js';
import type {
  Answer, ConfirmAnswer, CreateSessionOptions, Credentials, HoldAnswer, HoldBody, HoldsList, LoginAnswer, LoginBody, RecordAnswer, RecordList,
  RecordRead, RecordWriteOptions, ReleaseAnswer, RequestBody, SessionApi, SessionView, TransferAnswer,
} from '../client/types.js';

/** The generated types are the wire's; the service's values have the same shape. */
const as = <T>(v: unknown): T => v as T;

/**
 * SessionApi over a Tessera instance in the same process: each call takes
 * the session's turn, accepts (rotates) the credentials and runs one use
 * case, exactly as an HTTP request does (src/http/session.ts), minus HTTP.
 * Errors are the service's TesseraError, with the same codes.
 */
export class InProcessSession implements SessionApi {
  private current: Credentials;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly tessera: Tessera, private readonly client: Client, credentials: Credentials,
    private readonly onCredentials?: (c: Credentials) => void) {
    this.current = { ...credentials };
  }

  static async create(tessera: Tessera, client: Client, body: CreateSessionOptions, onCredentials?: (c: Credentials) => void): Promise<InProcessSession> {
    const created = await tessera.createSession(client, body);
    return new InProcessSession(tessera, client, { id: created.id, key: created.key }, onCredentials);
  }

  get id(): string {
    return this.current.id;
  }

  get key(): string {
    return this.current.key;
  }

  private run<T>(work: (ctx: SessionContext) => Promise<T | Rekeyed<T>> | T, rotate = true): Promise<T> {
    const go = this.tail.then(() => this.turn(work, rotate));
    this.tail = go.catch(() => undefined);
    return go;
  }

  /** One request: the session's turn, its credentials accepted, one use case; the key to send next kept. */
  private async turn<T>(work: (ctx: SessionContext) => Promise<T | Rekeyed<T>> | T, rotate: boolean): Promise<T> {
    const { id, key } = this.current;
    const release = await this.tessera.takeTurn(this.client, id);
    if (!release) throw new TesseraError('SESSION_INVALID');
    try {
      let ctx: SessionContext;
      try {
        ctx = await this.tessera.enter(this.client, id, key, { rotate });
      } catch (e) {
        this.accepted(e); // TRANSACTION_ABORTED: accepted, rotated, then refused
        throw e;
      }
      this.update({ id: ctx.session.id, key: ctx.key });
      try {
        const done = await work(ctx);
        if (!(done instanceof Rekeyed)) return done;
        // Login and logout give the session a new key.
        this.update({ id: done.ctx.session.id, key: done.ctx.key });
        return done.answer;
      } catch (e) {
        this.accepted(e);
        throw e;
      }
    } finally {
      await release();
    }
  }

  /** An error raised after the credentials were accepted carries the key to send next. */
  private accepted(e: unknown): void {
    const ctx = acceptedContext(e);
    if (ctx) this.update({ id: ctx.session.id, key: ctx.key });
  }

  private update(c: Credentials): void {
    if (c.id === this.current.id && c.key === this.current.key) return;
    this.current = c;
    this.onCredentials?.({ ...c });
  }

  get(): Promise<SessionView> {
    return this.run((ctx) => as(this.tessera.describe(ctx)));
  }

  keepAlive(body?: RequestBody<'/v1/session/keepalive', 'post'>): Promise<Answer<'/v1/session/keepalive', 'post'>> {
    return this.run(async (ctx) => as(await this.tessera.keepAlive(ctx, body)));
  }

  end(): Promise<Answer<'/v1/session', 'delete'>> {
    return this.run(async (ctx) => as(await this.tessera.end(ctx)));
  }

  login(body: LoginBody): Promise<LoginAnswer> {
    return this.run(async (ctx) => as<Rekeyed<LoginAnswer>>(await this.tessera.users.login(ctx, body)), false);
  }

  logout(): Promise<Answer<'/v1/session/logout', 'post'>> {
    return this.run(async (ctx) => as<Rekeyed<Answer<'/v1/session/logout', 'post'>>>(await this.tessera.users.logout(ctx)), false);
  }

  authorize(anyOf: string[]): Promise<Answer<'/v1/session/authorize', 'post'>> {
    return this.run((ctx) => as(this.tessera.users.authorize(ctx, { anyOf })));
  }

  transfer(): Promise<TransferAnswer> {
    return this.run(async (ctx) => {
      const created = await this.tessera.transfer(ctx);
      this.update({ id: created.id, key: created.key });
      return as<TransferAnswer>(created);
    });
  }

  putRecord(name: string, value: unknown, options: RecordWriteOptions = {}): Promise<RecordAnswer> {
    const body = options.ttl === undefined ? { value } : { value, ttl: options.ttl };
    return this.run(async (ctx) => as(await this.tessera.putRecord(ctx, name, options.key, body, options.ifMatch)));
  }

  getRecord(name: string, key?: string): Promise<RecordRead> {
    return this.run(async (ctx) => as(await this.tessera.getRecord(ctx, name, key)));
  }

  listRecords(): Promise<RecordList> {
    return this.run(async (ctx) => as(await this.tessera.listRecords(ctx)));
  }

  deleteRecord(name: string, key?: string, options: { ifMatch?: number } = {}): Promise<Answer<'/v1/session/records/{name}', 'delete'>> {
    return this.run(async (ctx) => as(await this.tessera.deleteRecord(ctx, name, key, options.ifMatch)));
  }

  hold(body: HoldBody): Promise<HoldAnswer> {
    return this.run(async (ctx) => as(await this.tessera.holds.hold(ctx, body)));
  }

  holds(): Promise<HoldsList> {
    return this.run(async (ctx) => as(await this.tessera.holds.list(ctx)));
  }

  renewHolds(ttl?: number): Promise<Answer<'/v1/session/holds/renew', 'post'>> {
    return this.run(async (ctx) => as(await this.tessera.holds.renew(ctx, ttl === undefined ? {} : { ttl })));
  }

  releaseHolds(resource?: string): Promise<ReleaseAnswer> {
    return this.run(async (ctx) => as(await this.tessera.holds.release(ctx, resource)));
  }

  confirmHolds(resources?: string[]): Promise<ConfirmAnswer> {
    return this.run(async (ctx) => as(await this.tessera.holds.confirm(ctx, resources === undefined ? {} : { resources })));
  }

  begin(): Promise<Answer<'/v1/session/transactions', 'post'>> {
    return this.run(async (ctx) => as(await this.tessera.transactions.begin(ctx, undefined)));
  }

  commit(): Promise<Answer<'/v1/session/transactions/commit', 'post'>> {
    return this.run(async (ctx) => as(await this.tessera.transactions.commit(ctx, undefined)));
  }

  rollback(options: { all?: boolean } = {}): Promise<Answer<'/v1/session/transactions/rollback', 'post'>> {
    return this.run(async (ctx) => as(await this.tessera.transactions.rollback(ctx, options.all ? { all: 'true' } : {}, undefined)));
  }
}
