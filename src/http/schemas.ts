import { ERRORS } from '../core/errors.js';
import { HOLD_NAME, HOLD_PREFIX, MAX_NAMES } from '../core/holds.js';
import { ENTRY_KEY, IF_MATCH, QUERY_NUMBER, RECORD_NAME } from '../core/input.js';
import { ROTATIONS } from '../core/session.js';
import { MAX_PAGE } from '../core/transactions.js';
import { MAX_ROLES, USER_NAME } from '../core/users.js';

/**
 * The JSON Schemas of the routes: Fastify validates requests with them and
 * @fastify/swagger builds /openapi.json from them, so the document and the
 * validation are one thing. Patterns come from core/, where the service's own
 * checks use them. A schema is never stricter than the use case behind it:
 * the use case stays the final check (and the one in-process callers meet),
 * and a schema refusal is the same 400 INVALID_REQUEST it would give.
 *
 * Session-Id and Session-Key are security schemes, not validated parameters:
 * a malformed one is SESSION_INVALID (401), not a 400.
 */

const time = { type: 'string', format: 'date-time' } as const;
const seconds = { type: 'integer', minimum: 1, description: 'Seconds; a larger value than the server allows is capped.' } as const;
const text = (re: RegExp, description?: string) => ({ type: 'string', pattern: re.source, ...(description ? { description } : {}) }) as const;

export const recordName = text(RECORD_NAME, 'A record name: 1 to 128 of A-Z a-z 0-9 _ . : -');
export const entryKey = text(ENTRY_KEY, 'An entry key: 1 to 256 characters, no control characters, no /, not . or ..');
export const holdName = text(HOLD_NAME, 'A resource or pool name: 1 to 200 of A-Z a-z 0-9 _ . : @ -');
export const holdPrefix = text(HOLD_PREFIX);
export const userName = text(USER_NAME, 'A user or role name: 1 to 128 characters, no control characters.');
export const roleNames = { type: 'array', maxItems: MAX_ROLES, items: userName } as const;
export const holdNames = { type: 'array', minItems: 1, maxItems: MAX_NAMES, items: holdName } as const;
/** Query text that must be a whole number (the use case checks the range). */
export const wholeNumber = (max: number, description?: string) =>
  ({ type: 'string', pattern: QUERY_NUMBER.source, description: `A whole number from 1 to ${max}.${description ? ` ${description}` : ''}` }) as const;
export const pageSize = { type: 'integer', minimum: 1, maximum: MAX_PAGE } as const;

/** Shared shapes, registered with app.addSchema and named in the document's components. */
export const sharedSchemas = [
  {
    $id: 'Error', type: 'object', required: ['error'], description: 'Every error answer: a code of the catalogue (docs/errors.md).',
    properties: {
      error: {
        type: 'object', required: ['code', 'message'],
        properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' }, details: { type: 'object' } },
      },
    },
  },
  {
    $id: 'CreatedSession', type: 'object',
    properties: {
      id: { type: 'string' }, key: { type: 'string' }, idleTimeout: seconds, lifespan: seconds,
      rotation: { type: 'string', enum: [...ROTATIONS] }, queue: { type: 'boolean' }, nextTimeout: time, expiresAt: time,
    },
  },
  {
    $id: 'SessionUser', type: ['object', 'null'], description: "The session's user, null for none.",
    properties: { name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } },
  },
  {
    $id: 'Session', type: 'object',
    properties: {
      id: { type: 'string' }, user: { $ref: 'SessionUser#' }, createdAt: time, lastAccessAt: time, nextTimeout: time, expiresAt: time,
      rotation: { type: 'string' }, transactionDepth: { type: 'integer' },
    },
  },
  {
    $id: 'Record', type: 'object', description: 'A single record, or one entry (with its key) of a multiple record.',
    properties: {
      name: { type: 'string' }, key: { type: 'string' }, value: {}, version: { type: 'integer' },
      updatedAt: time, expiresAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  { $id: 'MultipleRecord', type: 'object', properties: { name: { type: 'string' }, entries: { type: 'array', items: { $ref: 'Record#' } } } },
  {
    $id: 'Hold', type: 'object', description: '`resource` for an exclusive hold; `pool` and `quantity` for units of a pool.',
    properties: {
      resource: { type: 'string' }, pool: { type: 'string' }, quantity: { type: 'integer', minimum: 1 },
      token: { type: 'integer', description: 'Fencing token: grows with every grant on the name, never goes back.' },
      expiresAt: time, sessionId: { type: 'string', description: 'Admin listing only.' },
    },
  },
  {
    $id: 'Claim', type: 'object', description: '`resource` for a claim on an exclusive resource; `pool` and `quantity` for units of a pool.',
    properties: {
      resource: { type: 'string' }, pool: { type: 'string' }, quantity: { type: 'integer' }, token: { type: 'integer' }, confirmedAt: time,
      sessionId: { type: 'string', description: 'Admin listing only (the session may have ended since).' },
    },
  },
  {
    $id: 'Pool', type: 'object', required: ['name', 'capacity', 'held', 'claimed', 'free'],
    properties: {
      name: { type: 'string' }, capacity: { type: 'integer', minimum: 0 },
      held: { type: 'integer', minimum: 0, description: 'Units held by live holds.' },
      claimed: { type: 'integer', minimum: 0, description: 'Units sold (confirmed).' },
      free: { type: 'integer', minimum: 0, description: 'capacity - held - claimed, never below 0.' },
    },
  },
  { $id: 'User', type: 'object', properties: { name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, createdAt: time, updatedAt: time } },
  {
    $id: 'AdminSession', type: 'object',
    properties: {
      id: { type: 'string' }, client: { type: 'string' }, user: { $ref: 'SessionUser#' }, createdAt: time, lastAccessAt: time, nextTimeout: time,
      expiresAt: { ...time, description: 'Reading one session only.' }, rotation: { type: 'string', description: 'Reading one session only.' },
    },
  },
] as const;

export const ref = (id: (typeof sharedSchemas)[number]['$id']) => ({ $ref: `${id}#` });

/** Schemes of the document: the client's bearer token, and the session's two headers. */
export const securitySchemes = {
  client: { type: 'http', scheme: 'bearer', description: "An API client's token (none in open mode, loopback only)." },
  sessionId: { type: 'apiKey', in: 'header', name: 'Session-Id', description: 'The session id.' },
  sessionKey: { type: 'apiKey', in: 'header', name: 'Session-Key', description: 'The key the previous answer gave (rotates per request by default).' },
} as const;

const sessionHeaders = {
  'Session-Id': { type: 'string', description: 'The session id.' },
  'Session-Key': { type: 'string', description: 'The key to send on the next request.' },
  'Session-Expires': { ...time, description: 'The next timeout.' },
} as const;

const errors = {
  '4XX': { description: 'An error of the catalogue (docs/errors.md).', ...ref('Error') },
  '5XX': { description: 'STORE_UNAVAILABLE, QUEUE_TIMEOUT, SHUTTING_DOWN or INTERNAL_ERROR.', ...ref('Error') },
};

/** The If-Match header of record writes and deletes. */
export const ifMatchHeader = {
  type: 'object',
  properties: { 'if-match': { ...text(IF_MATCH), description: 'A record version, quoted or not; 0 means only if absent.' } },
} as const;

type Schema = Record<string, unknown>;

interface RouteDoc {
  operationId: string;
  summary: string;
  tags: string[];
  description?: string;
  params?: Schema;
  querystring?: Schema;
  headers?: Schema;
  /** The body's schema; `bodyOptional` when no body (or an empty one) is fine too. */
  body?: Schema;
  bodyOptional?: boolean;
  /** Success answers by status. */
  response: Record<number, Schema>;
}

/** Marks an operation whose request body may be left out (see optionalBodies in server.ts). */
export const BODY_OPTIONAL = 'x-body-optional';

function schemaOf(doc: RouteDoc, security: Record<string, string[]>[], successHeaders?: object) {
  const { bodyOptional, response, ...rest } = doc;
  const responses: Record<string, unknown> = { ...errors };
  for (const [status, schema] of Object.entries(response)) {
    responses[status] = { description: 'Success', ...(successHeaders ? { headers: successHeaders } : {}), ...schema };
  }
  return { ...rest, security, ...(bodyOptional ? { [BODY_OPTIONAL]: true } : {}), response: responses };
}

/** A route of a session: the client's token and the session's credentials; the answer carries the next key. */
export const sessionRoute = (doc: RouteDoc) => schemaOf(doc, [{ client: [], sessionId: [], sessionKey: [] }], sessionHeaders);
/** The route that ends its session: the session's credentials; the answer carries no session headers (no session is left). */
export const endingRoute = (doc: RouteDoc) => schemaOf(doc, [{ client: [], sessionId: [], sessionKey: [] }]);
/** A route of a client (app or admin roles), no session. */
export const clientRoute = (doc: RouteDoc) => schemaOf(doc, [{ client: [] }]);
/** A route anyone may call (health, readiness, this document). */
export const openRoute = (doc: RouteDoc) => schemaOf(doc, []);
/** A route answering the new session's headers (create, transfer). */
export const creatingRoute = (doc: RouteDoc, security: 'client' | 'session') =>
  schemaOf(doc, security === 'client' ? [{ client: [] }] : [{ client: [], sessionId: [], sessionKey: [] }], sessionHeaders);

/** An object body with these properties and no others. */
export const object = (properties: Record<string, object>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) }) as const;
/** The body of a route that takes none: nothing, or an empty object. */
export const noBody = object({});

export const message = object({ message: { type: 'string', const: 'success' } });
export const deleted = object({ deleted: { type: 'boolean', const: true } });
export const released = object({ released: { type: 'array', items: { type: 'string' } } });
export const depth = object({ depth: { type: 'integer', minimum: 0, description: 'Transactions (scopes) left open.' } }, ['depth']);
export const holdList = object({ holds: { type: 'array', items: ref('Hold') } });
