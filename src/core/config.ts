import { Ajv, type ErrorObject } from 'ajv';
import { isValidName } from './users.js';

/**
 * The server's options: one object, validated once at start (an unknown key,
 * a wrong type or a bad value stops the start with a message naming the key),
 * then frozen. Every key is optional; `docs/configuration.md` lists the defaults.
 */
export type ClientRole = 'app' | 'admin' | 'portal';

export interface ClientConfig {
  id: string;
  token: string;
  roles: ClientRole[];
}

/** Most entries of a multiple record whose type names no `maxEntries` (and of a record of no configured type). */
export const DEFAULT_MAX_ENTRIES = 1000;

export interface RecordTypeConfig {
  kind: 'single' | 'multiple';
  /** Seconds after the last write or touch; absent: as long as the session. */
  ttl?: number;
  /** @default DEFAULT_MAX_ENTRIES */
  maxEntries: number;
  schema?: object;
  readRoles?: string[];
  writeRoles?: string[];
}

export interface TesseraConfig {
  /** `workers`: processes sharing the port (more than 1 only with a store they share: Redis). */
  listen: { host: string; port: number; workers: number };
  store: string;
  clients: ClientConfig[];
  session: {
    idleTimeout: number;
    lifespan: number;
    maxIdleTimeout: number;
    maxLifespan: number;
    graceWindow: number;
    queueTimeout: number;
    transactionTimeout: number;
    cursorTimeout: number;
    maxRecords: number;
    maxRecordSize: number;
    /** Most bytes of live record values a session holds (core/records.ts valueBytes, summed). */
    maxRecordBytes: number;
    sweepInterval: number;
  };
  records: Record<string, RecordTypeConfig>;
  strictRecords: boolean;
  anonymousUser: { name: string; roles: string[] };
  holds: { defaultTtl: number; maxTtl: number };
  /**
   * Failed-login throttles (store-kept, so shared by every node on a Redis):
   * per username and source address (`maxFailures` in `window`), per username
   * from anywhere (`userMaxFailures` in `userWindow`, the slower curve), per
   * source address across usernames (`sourceMaxFailures` in `sourceWindow`,
   * against spraying), and per session (`maxFailures` in `window`). Counter
   * keys are HMAC-SHA-256 with `secret` (see docs/outages-and-limits.md).
   */
  login: {
    maxFailures: number; window: number;
    userMaxFailures: number; userWindow: number;
    sourceMaxFailures: number; sourceWindow: number;
    secret?: string;
  };
  /** Requests per `window` seconds per client and source address: every route, session creation, login. */
  rateLimit: { enabled: boolean; window: number; max: number; createSession: number; login: number };
  users: { name: string; password: string; roles: string[] }[];
  /** `trustProxy`: addresses (or CIDRs) of proxies whose X-Forwarded-For names the source address; false: none. */
  http: { bodyLimit: number; headersTimeout: number; requestTimeout: number; trustProxy: false | string[] };
  /** GET /v1/admin/events: events kept for a resume (count, seconds), heartbeat seconds, bytes a slow subscriber may lag. */
  events: { backlog: number; backlogAge: number; heartbeat: number; subscriberBuffer: number };
}

export const DEFAULTS: TesseraConfig = {
  listen: { host: '127.0.0.1', port: 8080, workers: 1 },
  store: 'sqlite:./data/tessera.db',
  clients: [],
  session: {
    idleTimeout: 1800, lifespan: 43200, maxIdleTimeout: 86400, maxLifespan: 604800,
    graceWindow: 10, queueTimeout: 30, transactionTimeout: 300, cursorTimeout: 1200,
    maxRecords: 256, maxRecordSize: 65536, maxRecordBytes: 1048576, sweepInterval: 1,
  },
  records: {},
  strictRecords: false,
  anonymousUser: { name: 'anonymous', roles: ['guest'] },
  holds: { defaultTtl: 900, maxTtl: 3600 },
  login: { maxFailures: 5, window: 900, userMaxFailures: 50, userWindow: 3600, sourceMaxFailures: 100, sourceWindow: 900 },
  rateLimit: { enabled: true, window: 60, max: 60000, createSession: 1200, login: 600 },
  users: [],
  http: { bodyLimit: 1048576, headersTimeout: 10, requestTimeout: 30, trustProxy: false },
  events: { backlog: 10000, backlogAge: 3600, heartbeat: 15, subscriberBuffer: 1048576 },
};

// Ten years at most: beyond that a time no longer has an RFC 3339 form worth the name.
const seconds = { type: 'integer', minimum: 1, maximum: 315_360_000 };
const count = { type: 'integer', minimum: 1 };
const name = { type: 'string', minLength: 1, maxLength: 128 };
const roles = { type: 'array', items: name };
const object = (properties: Record<string, object>, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: false });

const SCHEMA = object({
  listen: object({
    host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 },
    workers: { type: 'integer', minimum: 1, maximum: 64 },
  }),
  store: { type: 'string', minLength: 1 },
  clients: {
    type: 'array',
    items: object({
      id: name,
      token: { type: 'string', minLength: 16 },
      roles: { type: 'array', minItems: 1, items: { enum: ['app', 'admin', 'portal'] } },
    }, ['id', 'token', 'roles']),
  },
  session: object({
    idleTimeout: seconds, lifespan: seconds, maxIdleTimeout: seconds, maxLifespan: seconds,
    graceWindow: { type: 'integer', minimum: 0 }, queueTimeout: seconds, transactionTimeout: seconds, cursorTimeout: seconds,
    maxRecords: count, maxRecordSize: count, maxRecordBytes: count, sweepInterval: seconds,
  }),
  records: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
    additionalProperties: object({
      kind: { enum: ['single', 'multiple'] }, ttl: seconds, maxEntries: count,
      schema: { type: ['object', 'boolean'] }, readRoles: roles, writeRoles: roles,
    }),
  },
  strictRecords: { type: 'boolean' },
  anonymousUser: object({ name, roles }, ['name', 'roles']),
  holds: object({ defaultTtl: seconds, maxTtl: seconds }),
  login: object({
    maxFailures: count, window: seconds, userMaxFailures: count, userWindow: seconds,
    sourceMaxFailures: count, sourceWindow: seconds, secret: { type: 'string', minLength: 16 },
  }),
  rateLimit: object({ enabled: { type: 'boolean' }, window: seconds, max: count, createSession: count, login: count }),
  users: { type: 'array', items: object({ name, password: { type: 'string', minLength: 1 }, roles }, ['name', 'password']) },
  http: object({ bodyLimit: count, headersTimeout: { type: 'integer', minimum: 1, maximum: 3600 }, requestTimeout: { type: 'integer', minimum: 1, maximum: 3600 },
    trustProxy: { anyOf: [{ const: false }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
  }),
  events: object({
    backlog: { type: 'integer', minimum: 1, maximum: 1_000_000 }, backlogAge: seconds, heartbeat: seconds, subscriberBuffer: count,
  }),
});

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const validate = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(SCHEMA);

function describe(e: ErrorObject): string {
  const path = e.instancePath.split('/').slice(1).join('.');
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    return `${path ? `${path}.` : ''}${key}: unknown key`;
  }
  if (e.keyword === 'propertyNames') return `${path}: record names are 1-128 of A-Z a-z 0-9 _ . : -`;
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `${path || '(root)'}: must be one of ${allowed}`;
  }
  return `${path || '(root)'}: ${e.message}`;
}

/** Validates a config object, fills in defaults and freezes it. */
export function resolveConfig(input: unknown = {}): Readonly<TesseraConfig> {
  if (!validate(input)) throw new ConfigError(`config: ${describe(validate.errors![0])}`);
  const given = input as Partial<TesseraConfig>;
  const config: TesseraConfig = {
    ...DEFAULTS,
    ...given,
    listen: { ...DEFAULTS.listen, ...given.listen },
    session: { ...DEFAULTS.session, ...given.session },
    holds: { ...DEFAULTS.holds, ...given.holds },
    login: { ...DEFAULTS.login, ...given.login },
    rateLimit: { ...DEFAULTS.rateLimit, ...given.rateLimit },
    http: { ...DEFAULTS.http, ...given.http },
    events: { ...DEFAULTS.events, ...given.events },
    records: Object.fromEntries(Object.entries((given.records ?? {}) as Record<string, Partial<RecordTypeConfig>>)
      .map(([n, t]) => [n, { kind: 'single', maxEntries: DEFAULT_MAX_ENTRIES, ...t } as RecordTypeConfig])),
    users: (given.users ?? []).map((u) => ({ ...u, roles: [...new Set(u.roles ?? [])] })),
  };
  const s = config.session;
  // A default left unset follows a lower maximum; one set explicitly above it is an error.
  if (given.session?.idleTimeout === undefined) s.idleTimeout = Math.min(s.idleTimeout, s.maxIdleTimeout);
  if (given.session?.lifespan === undefined) s.lifespan = Math.min(s.lifespan, s.maxLifespan);
  if (given.holds?.defaultTtl === undefined) config.holds.defaultTtl = Math.min(config.holds.defaultTtl, config.holds.maxTtl);
  if (s.idleTimeout > s.maxIdleTimeout) throw new ConfigError('config: session.idleTimeout: must not exceed session.maxIdleTimeout');
  if (s.lifespan > s.maxLifespan) throw new ConfigError('config: session.lifespan: must not exceed session.maxLifespan');
  if (config.holds.defaultTtl > config.holds.maxTtl) throw new ConfigError('config: holds.defaultTtl: must not exceed holds.maxTtl');
  if (given.http?.headersTimeout === undefined) config.http.headersTimeout = Math.min(config.http.headersTimeout, config.http.requestTimeout);
  if (config.http.headersTimeout > config.http.requestTimeout) {
    throw new ConfigError('config: http.headersTimeout: must not exceed http.requestTimeout (the whole request includes its head)');
  }
  if (config.listen.workers > 1 && !/^redis(-cluster)?:\/\//.test(config.store)) {
    throw new ConfigError('config: listen.workers: more than 1 needs a store the processes share (redis:// or redis-cluster://); '
      + 'a SQLite file or memory: belongs to one process');
  }
  const ids = new Set<string>();
  const tokens = new Set<string>();
  config.clients.forEach((c, i) => {
    if (ids.has(c.id)) throw new ConfigError(`config: clients.${i}.id: duplicate client id '${c.id}'`);
    if (tokens.has(c.token)) throw new ConfigError(`config: clients.${i}.token: the same token as another client (it could never be told apart)`);
    ids.add(c.id);
    tokens.add(c.token);
  });
  checkUsers(config);
  return deepFreeze(config);
}

function checkUsers(config: TesseraConfig): void {
  const names = new Set<string>();
  const check = (ok: boolean, path: string, message: string) => {
    if (!ok) throw new ConfigError(`config: ${path}: ${message}`);
  };
  config.anonymousUser.roles.forEach((r, j) => check(isValidName(r), `anonymousUser.roles.${j}`, 'must have no control characters'));
  check(isValidName(config.anonymousUser.name), 'anonymousUser.name', 'must have no control characters');
  config.users.forEach((u, i) => {
    check(isValidName(u.name), `users.${i}.name`, 'must have no control characters');
    check(!names.has(u.name), `users.${i}.name`, `duplicate user '${u.name}'`);
    check(u.name !== config.anonymousUser.name, `users.${i}.name`, `'${u.name}' is the anonymous user's name`);
    u.roles.forEach((r, j) => check(isValidName(r), `users.${i}.roles.${j}`, 'must have no control characters'));
    names.add(u.name);
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
