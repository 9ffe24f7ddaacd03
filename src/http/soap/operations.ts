import { ROTATIONS } from '../../core/session.js';
import { parseJsonText } from '../../core/input.js';
import type { Budget } from '../rate-limit.js';
import { Rekeyed, type Client, type SessionContext } from '../../service/context.js';
import type { Tessera } from '../../service/tessera.js';

/**
 * The seventeen SOAP operations (docs/protocol.md#xml-soap-and-the-portal-routes), each one call of the same use
 * case the JSON route makes. One table drives the WSDL's schema, the reading
 * of a request and the writing of its answer, so the three cannot disagree.
 *
 * Element names are PascalCase (SessionId, NextTimeout); a record's value
 * travels as its JSON text in <Value>, so that every JSON value crosses SOAP
 * unchanged and every stock client sees a plain string.
 */

export type Scalar = 'string' | 'long' | 'boolean' | 'dateTime';
export interface ListType { list: string; of: FieldType }
export interface ComplexType { complex: string; fields: Field[] }
export type FieldType = Scalar | ListType | ComplexType;

export interface Field {
  name: string;
  type: FieldType;
  optional?: boolean;
  doc?: string;
}

/** What a running operation may use. */
export interface OperationCall {
  tessera: Tessera;
  client: Client;
  input: Record<string, unknown>;
  /** The source address of the request (the login throttles count by it). */
  source: string;
}

export interface Operation {
  name: string;
  doc: string;
  input: Field[];
  output: Field[];
  /**
   * Session-bound operations name how the credentials are accepted (rotate:
   * false for login and logout, which issue a key themselves) and run in the
   * session's turn; the answer's SessionKey is added from the context.
   */
  session?: { rotate: boolean };
  /** Counted against this budget of its own (as its JSON route is): session creation, login. */
  budget?: Budget;
  /** Login and logout answer Rekeyed: the answer and the session's new context. */
  run(call: OperationCall, ctx: SessionContext | null): Promise<Record<string, unknown> | Rekeyed<Record<string, unknown>>>;
}

const str = (name: string, optional = false, doc?: string): Field => ({ name, type: 'string', optional, doc });
const long = (name: string, optional = false, doc?: string): Field => ({ name, type: 'long', optional, doc });
const bool = (name: string, optional = false, doc?: string): Field => ({ name, type: 'boolean', optional, doc });
const time = (name: string, optional = false, doc?: string): Field => ({ name, type: 'dateTime', optional, doc });

const USER: ComplexType = { complex: 'User', fields: [str('Name'), { name: 'Roles', type: { list: 'Role', of: 'string' } }] };
const HOLD: ComplexType = {
  complex: 'Hold',
  fields: [str('Resource', true), str('Pool', true), long('Quantity', true), long('Token', false, 'Fencing token: grows with every grant on the name.'), time('ExpiresAt')],
};
const CLAIM: ComplexType = { complex: 'Claim', fields: [str('Resource', true), str('Pool', true), long('Quantity', true), long('Token'), time('ConfirmedAt')] };
const ENTRY: ComplexType = {
  complex: 'Entry',
  fields: [str('Key'), str('Value', false, 'The value as JSON text.'), long('Version'), time('UpdatedAt'), time('ExpiresAt', true)],
};
const holds: Field = { name: 'Holds', type: { list: 'Hold', of: HOLD } };
const claims: Field = { name: 'Claims', type: { list: 'Claim', of: CLAIM } };
const resources = (optional: boolean): Field => ({ name: 'Resources', type: { list: 'Resource', of: 'string' }, optional });

/** The SessionId and SessionKey every session-bound request carries. */
export const CREDENTIALS: Field[] = [str('SessionId', false, 'The session id.'), str('SessionKey', false, 'The current key; the answer carries the next one.')];
/** The key to send next, first in every answer of a session-bound operation. */
const NEXT_KEY = str('SessionKey', false, 'The key to send on the next request.');

type Json = Record<string, unknown>;
const holdOut = (h: Json) => ({ Resource: h.resource, Pool: h.pool, Quantity: h.quantity, Token: h.token, ExpiresAt: h.expiresAt });
const claimOut = (c: Json) => ({ Resource: c.resource, Pool: c.pool, Quantity: c.quantity, Token: c.token, ConfirmedAt: c.confirmedAt });
const userOut = (u: { name: string; roles: string[] } | null) => (u ? { Name: u.name, Roles: u.roles } : undefined);
const recordOut = (r: Json) => ({ Key: r.key, Value: JSON.stringify(r.value), Version: r.version, UpdatedAt: r.updatedAt, ExpiresAt: r.expiresAt ?? undefined });
/** A SOAP input's JSON value: its JSON text parsed, or a clear 400. */
function parseValue(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  return parseJsonText(text, '<Value> must be JSON text (a string is written with its quotes: "text"), with no __proto__ or constructor.prototype key.', 'Value');
}

export const OPERATIONS: Operation[] = [
  {
    name: 'CreateSession',
    budget: 'createSession',
    doc: 'Creates a session (POST /v1/sessions).',
    input: [long('IdleTimeout', true), long('Lifespan', true), str('Rotation', true, ROTATIONS.join(' or ')), bool('Queue', true)],
    output: [str('SessionId'), str('SessionKey'), long('IdleTimeout'), long('Lifespan'), str('Rotation'), bool('Queue'), time('NextTimeout'), time('ExpiresAt')],
    async run({ tessera, client, input }) {
      const c = await tessera.createSession(client, { idleTimeout: input.IdleTimeout, lifespan: input.Lifespan, rotation: input.Rotation, queue: input.Queue });
      return {
        SessionId: c.id, SessionKey: c.key, IdleTimeout: c.idleTimeout, Lifespan: c.lifespan, Rotation: c.rotation, Queue: c.queue,
        NextTimeout: c.nextTimeout, ExpiresAt: c.expiresAt,
      };
    },
  },
  {
    name: 'GetSession',
    doc: 'Describes the session (GET /v1/session).',
    input: [],
    output: [NEXT_KEY, str('Id'), { name: 'User', type: USER, optional: true }, time('CreatedAt'), time('LastAccessAt'), time('NextTimeout'), time('ExpiresAt'),
      str('Rotation'), long('TransactionDepth')],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      const d = tessera.describe(ctx!);
      return {
        Id: d.id, User: userOut(d.user), CreatedAt: d.createdAt, LastAccessAt: d.lastAccessAt, NextTimeout: d.nextTimeout, ExpiresAt: d.expiresAt,
        Rotation: d.rotation, TransactionDepth: d.transactionDepth,
      };
    },
  },
  {
    name: 'SessionKeepAlive',
    doc: 'Keeps the session alive (POST /v1/session/keepalive); TouchRecords restarts the records\' expiry clocks too.',
    input: [bool('TouchRecords', true)],
    output: [NEXT_KEY, str('Message'), time('NextTimeout')],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      const r = await tessera.keepAlive(ctx!, { touchRecords: input.TouchRecords });
      return { Message: r.message, NextTimeout: r.nextTimeout };
    },
  },
  {
    name: 'SessionEnd',
    doc: 'Ends the session (DELETE /v1/session): transactions roll back, holds are released, cursors close.',
    input: [],
    output: [str('Message')],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      return { Message: (await tessera.end(ctx!)).message };
    },
  },
  {
    name: 'Login',
    budget: 'login',
    doc: 'Logs the session in (POST /v1/session/login): Username and Password, or Anonymous true. A new key with no grace for the old one.',
    input: [str('Username', true), str('Password', true), bool('Anonymous', true)],
    output: [NEXT_KEY, { name: 'User', type: USER }],
    session: { rotate: false },
    async run({ tessera, input, source }, ctx) {
      const r = await tessera.users.login(ctx!, { username: input.Username, password: input.Password, anonymous: input.Anonymous }, source);
      return new Rekeyed({ User: userOut(r.answer.user) }, r.ctx);
    },
  },
  {
    name: 'Logout',
    doc: 'Logs the session out (POST /v1/session/logout): user cleared, holds released, a new key.',
    input: [],
    output: [NEXT_KEY, str('Message')],
    session: { rotate: false },
    async run({ tessera }, ctx) {
      const r = await tessera.users.logout(ctx!);
      return new Rekeyed({ Message: r.answer.message }, r.ctx);
    },
  },
  {
    name: 'SetRecord',
    doc: 'Writes a record, or one entry of a multiple record with Key (PUT /v1/session/records/{name}[/{key}]).',
    input: [str('Name'), str('Key', true), str('Value', false, 'The value as JSON text: "text", 42, {"a":[1]}.'), long('Ttl', true), long('IfMatch', true,
      'Write only if the record\'s version is this one (0: only if absent).')],
    output: [NEXT_KEY, str('Name'), ...ENTRY.fields.map((f) => (f.name === 'Key' ? { ...f, optional: true } : f))],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      const r = await tessera.putRecord(ctx!, input.Name, input.Key, { value: parseValue(input.Value), ttl: input.Ttl }, input.IfMatch);
      return { Name: r.name, ...recordOut(r as unknown as Json) };
    },
  },
  {
    name: 'GetRecord',
    doc: 'Reads a record (GET /v1/session/records/{name}[/{key}]): a single record or entry fills Value and its fields; a multiple record fills Entries.',
    input: [str('Name'), str('Key', true)],
    output: [NEXT_KEY, str('Name'), ...ENTRY.fields.map((f) => ({ ...f, optional: true })), { name: 'Entries', type: { list: 'Entry', of: ENTRY }, optional: true }],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      const r = await tessera.getRecord(ctx!, input.Name, input.Key) as unknown as Json;
      if (Array.isArray(r.entries)) return { Name: r.name, Entries: (r.entries as Json[]).map(recordOut) };
      return { Name: r.name, ...recordOut(r) };
    },
  },
  {
    name: 'DeleteRecord',
    doc: 'Deletes a record, or one entry with Key (DELETE /v1/session/records/{name}[/{key}]).',
    input: [str('Name'), str('Key', true), long('IfMatch', true)],
    output: [NEXT_KEY, bool('Deleted')],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      return { Deleted: (await tessera.deleteRecord(ctx!, input.Name, input.Key, input.IfMatch)).deleted };
    },
  },
  {
    name: 'BeginTransaction',
    doc: 'Opens a transaction (a scope), nested in the open ones (POST /v1/session/transactions).',
    input: [],
    output: [NEXT_KEY, long('Depth')],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      return { Depth: (await tessera.transactions.begin(ctx!)).depth };
    },
  },
  {
    name: 'Commit',
    doc: 'Commits the innermost transaction (POST /v1/session/transactions/commit). Depth: the transactions left open.',
    input: [],
    output: [NEXT_KEY, long('Depth')],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      return { Depth: (await tessera.transactions.commit(ctx!)).depth };
    },
  },
  {
    name: 'Rollback',
    doc: 'Rolls back the innermost transaction, or all with All true (POST /v1/session/transactions/rollback).',
    input: [bool('All', true)],
    output: [NEXT_KEY, long('Depth')],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      return { Depth: (await tessera.transactions.rollback(ctx!, { all: input.All })).depth };
    },
  },
  {
    name: 'HoldResources',
    doc: 'Holds resources, all or none, or a quantity of a pool (POST /v1/session/holds).',
    input: [resources(true), str('Pool', true), long('Quantity', true), long('Ttl', true)],
    output: [NEXT_KEY, holds],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      const body: Json = {};
      for (const [from, to] of [['Resources', 'resources'], ['Pool', 'pool'], ['Quantity', 'quantity'], ['Ttl', 'ttl']]) {
        if (input[from] !== undefined) body[to] = input[from];
      }
      return { Holds: (await tessera.holds.hold(ctx!, body)).holds.map((h) => holdOut(h as unknown as Json)) };
    },
  },
  {
    name: 'GetHolds',
    doc: 'The session\'s live holds and claims (GET /v1/session/holds); HOLDS_EXPIRED once when holds expired since the last read.',
    input: [],
    output: [NEXT_KEY, holds, claims],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      const r = await tessera.holds.list(ctx!);
      return { Holds: r.holds.map((h) => holdOut(h as unknown as Json)), Claims: r.claims.map((c) => claimOut(c as unknown as Json)) };
    },
  },
  {
    name: 'ReleaseHolds',
    doc: 'Releases one hold (Resource) or every hold of the session (DELETE /v1/session/holds[/{resource}]).',
    input: [str('Resource', true)],
    output: [NEXT_KEY, { name: 'Released', type: { list: 'Resource', of: 'string' } }],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      return { Released: (await tessera.holds.release(ctx!, input.Resource)).released };
    },
  },
  {
    name: 'ConfirmHolds',
    doc: 'The sale: turns live holds (all, or those named) into permanent claims in one step (POST /v1/session/holds/confirm).',
    input: [resources(true)],
    output: [NEXT_KEY, claims],
    session: { rotate: true },
    async run({ tessera, input }, ctx) {
      const r = await tessera.holds.confirm(ctx!, input.Resources === undefined ? {} : { resources: input.Resources });
      return { Claims: r.claims.map((c) => claimOut(c as unknown as Json)) };
    },
  },
  {
    name: 'TransferSession',
    doc: 'Moves the session to a new id and key (POST /v1/session/transfer); the old id is invalid from then on.',
    input: [],
    output: [str('SessionId', false, 'The new session id.'), str('SessionKey', false, 'The new key.'), time('NextTimeout')],
    session: { rotate: true },
    async run({ tessera }, ctx) {
      const t = await tessera.transfer(ctx!);
      return { SessionId: t.id, SessionKey: t.key, NextTimeout: t.nextTimeout };
    },
  },
];

export const BY_NAME = new Map(OPERATIONS.map((o) => [o.name, o]));
