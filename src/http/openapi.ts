import { ERRORS } from '../core/errors.js';

/** OpenAPI 3.1 description of the routes this server has. */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
// Every /v1 body and answer comes in JSON or in XML (root <request> / <response>, arrays as <item>: docs/xml-and-soap.md).
const json = (schema: object) => ({ content: { 'application/json': { schema }, 'application/xml': { schema } } });
const soapXml = { content: { 'text/xml': { schema: { type: 'string' } }, 'application/soap+xml': { schema: { type: 'string' } } } };
const futuramaFailure = { description: 'Message is "CODE: message"', ...json({ type: 'object', properties: { Message: { type: 'string' } } }) };
const error = (description: string) => ({ description, ...json(ref('Error')) });
const sessionHeaders = {
  'Session-Id': { schema: { type: 'string' }, description: 'The session id.' },
  'Session-Key': { schema: { type: 'string' }, description: 'The key to send on the next request.' },
  'Session-Expires': { schema: { type: 'string', format: 'date-time' }, description: 'The next timeout.' },
};
const ok = (schema: object, status = '200') => ({ [status]: { description: 'Success', headers: sessionHeaders, ...json(schema) } });
const sessionBound = {
  security: [{ client: [] }],
  parameters: [
    { name: 'Session-Id', in: 'header', required: true, schema: { type: 'string' } },
    { name: 'Session-Key', in: 'header', required: true, schema: { type: 'string' } },
  ],
};
const errors = { '4XX': error('An error from the catalogue'), '503': error('STORE_UNAVAILABLE, QUEUE_TIMEOUT or SHUTTING_DOWN') };
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' } };
const keyParam = { name: 'key', in: 'path', required: true, schema: { type: 'string' } };
const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'A record version; 0 means only if absent.' };
const time = { type: 'string', format: 'date-time' };
const seconds = { type: 'integer', minimum: 1 };

const holdName = { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,200}$' };
const names = { type: 'array', minItems: 1, maxItems: 1000, items: holdName };
const resourceParam = { name: 'resource', in: 'path', required: true, schema: holdName, description: 'A resource or pool name.' };
const admin = { security: [{ client: [] }], description: 'Admin clients only.' };
const holdsOf = { type: 'object', properties: { holds: { type: 'array', items: ref('Hold') } } };
const released = { type: 'object', properties: { released: { type: 'array', items: { type: 'string' } } } };
const roleNames = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 64 };
const sessionUser = { type: ['object', 'null'], properties: { name: { type: 'string' }, roles: roleNames } };
const adminOnly = { security: [{ client: [] }], description: 'Admin clients only (403 FORBIDDEN for others).' };
const userParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const plain = (schema: object) => ({ '200': { description: 'Success', ...json(schema) } });

const depthOf = { type: 'object', required: ['depth'], properties: { depth: { type: 'integer', minimum: 0, description: 'Transactions (scopes) left open.' } } };
const noBody = { requestBody: { required: false, ...json({ type: 'object', additionalProperties: false, properties: {} }) } };
const cursorParam = { name: 'cursor', in: 'path', required: true, schema: { type: 'string' } };

const recordWrite = {
  requestBody: { required: true, ...json({ type: 'object', required: ['value'], additionalProperties: false, properties: { value: {}, ttl: seconds } }) },
};

export const openapi = {
  openapi: '3.1.0',
  info: { title: 'Tessera', version: '1', description: 'Sessions with rotating keys, serialized requests, typed records, transactions (nested scopes), cursors, holds with fencing tokens and transfer.' },
  components: {
    securitySchemes: { client: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object', required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: {
          code: { enum: Object.keys(ERRORS) }, message: { type: 'string' }, details: { type: 'object' } } } },
      },
      CreatedSession: {
        type: 'object',
        properties: { id: { type: 'string' }, key: { type: 'string' }, idleTimeout: seconds, lifespan: seconds,
          rotation: { enum: ['per-request', 'on-privilege-change'] }, queue: { type: 'boolean' }, nextTimeout: time, expiresAt: time },
      },
      Session: {
        type: 'object',
        properties: { id: { type: 'string' }, user: { type: ['object', 'null'] }, createdAt: time, lastAccessAt: time,
          nextTimeout: time, expiresAt: time, rotation: { type: 'string' }, transactionDepth: { type: 'integer' } },
      },
      Record: {
        type: 'object',
        properties: { name: { type: 'string' }, key: { type: 'string' }, value: {}, version: { type: 'integer' },
          updatedAt: time, expiresAt: { type: ['string', 'null'], format: 'date-time' } },
      },
      Hold: {
        type: 'object', description: '`resource` for an exclusive hold; `pool` and `quantity` for units of a pool.',
        properties: { resource: { type: 'string' }, pool: { type: 'string' }, quantity: { type: 'integer', minimum: 1 },
          token: { type: 'integer', description: 'Fencing token: grows with every grant on the name, never goes back.' },
          expiresAt: time, sessionId: { type: 'string', description: 'Admin listing only.' } },
      },
      Claim: {
        type: 'object',
        properties: { resource: { type: 'string' }, pool: { type: 'string' }, quantity: { type: 'integer' }, token: { type: 'integer' }, confirmedAt: time },
      },
      User: {
        type: 'object',
        properties: { name: { type: 'string' }, roles: roleNames, createdAt: time, updatedAt: time },
      },
      AdminSession: {
        type: 'object',
        properties: { id: { type: 'string' }, client: { type: 'string' }, user: sessionUser, createdAt: time, lastAccessAt: time, nextTimeout: time },
      },
      MultipleRecord: { type: 'object', properties: { name: { type: 'string' }, entries: { type: 'array', items: ref('Record') } } },
    },
  },
  paths: {
    '/v1/sessions': {
      post: {
        summary: 'Create a session', security: [{ client: [] }],
        requestBody: { required: false, ...json({ type: 'object', additionalProperties: false, properties: {
          idleTimeout: seconds, lifespan: seconds, rotation: { enum: ['per-request', 'on-privilege-change'] }, queue: { type: 'boolean' } } }) },
        responses: { ...ok(ref('CreatedSession'), '201'), ...errors },
      },
    },
    '/v1/session': {
      get: { summary: 'Read the session', ...sessionBound, responses: { ...ok(ref('Session')), ...errors } },
      delete: { summary: 'End the session', ...sessionBound, responses: { ...ok({ type: 'object' }), ...errors } },
    },
    '/v1/session/keepalive': {
      post: {
        summary: 'Keep the session alive', ...sessionBound,
        requestBody: { required: false, ...json({ type: 'object', properties: { touchRecords: { type: 'boolean' } } }) },
        responses: { ...ok({ type: 'object', properties: { message: { const: 'success' }, nextTimeout: time } }), ...errors },
      },
    },
    '/v1/session/records': {
      get: { summary: 'List live records', ...sessionBound, responses: { ...ok({ type: 'object', properties: { records: { type: 'array' } } }), ...errors } },
    },
    '/v1/session/records/{name}': {
      get: { summary: 'Read a record', ...sessionBound, parameters: [...sessionBound.parameters, nameParam],
        responses: { ...ok({ oneOf: [ref('Record'), ref('MultipleRecord')] }), ...errors } },
      put: { summary: 'Write a single record', ...sessionBound, parameters: [...sessionBound.parameters, nameParam, ifMatch],
        ...recordWrite, responses: { ...ok(ref('Record')), ...errors } },
      delete: { summary: 'Delete a record', ...sessionBound, parameters: [...sessionBound.parameters, nameParam, ifMatch],
        responses: { ...ok({ type: 'object', properties: { deleted: { const: true } } }), ...errors } },
    },
    '/v1/session/records/{name}/{key}': {
      get: { summary: 'Read one entry of a multiple record', ...sessionBound, parameters: [...sessionBound.parameters, nameParam, keyParam],
        responses: { ...ok(ref('Record')), ...errors } },
      put: { summary: 'Write one entry of a multiple record', ...sessionBound, parameters: [...sessionBound.parameters, nameParam, keyParam, ifMatch],
        ...recordWrite, responses: { ...ok(ref('Record')), ...errors } },
      delete: { summary: 'Delete one entry', ...sessionBound, parameters: [...sessionBound.parameters, nameParam, keyParam, ifMatch],
        responses: { ...ok({ type: 'object', properties: { deleted: { const: true } } }), ...errors } },
    },
    '/v1/session/holds': {
      post: {
        summary: 'Hold resources, or units of a pool, all or nothing (HOLD_CONFLICT, POOL_EXHAUSTED)', ...sessionBound,
        requestBody: { required: true, ...json({ oneOf: [
          { type: 'object', required: ['resources'], additionalProperties: false, properties: { resources: names, ttl: seconds } },
          { type: 'object', required: ['pool', 'quantity'], additionalProperties: false,
            properties: { pool: holdName, quantity: { type: 'integer', minimum: 1 }, ttl: seconds } },
        ] }) },
        responses: { ...ok(holdsOf, '201'), ...errors },
      },
      get: {
        summary: "The session's live holds and claims; HOLDS_EXPIRED once when some expired since the last read", ...sessionBound,
        responses: { ...ok({ type: 'object', properties: { holds: { type: 'array', items: ref('Hold') }, claims: { type: 'array', items: ref('Claim') } } }), ...errors },
      },
      delete: { summary: 'Release every hold of the session', ...sessionBound, responses: { ...ok(released), ...errors } },
    },
    '/v1/session/holds/{resource}': {
      delete: { summary: 'Release one hold', ...sessionBound, parameters: [...sessionBound.parameters, resourceParam], responses: { ...ok(released), ...errors } },
    },
    '/v1/session/holds/renew': {
      post: {
        summary: 'Extend every live hold', ...sessionBound,
        requestBody: { required: false, ...json({ type: 'object', additionalProperties: false, properties: { ttl: seconds } }) },
        responses: { ...ok(holdsOf), ...errors },
      },
    },
    '/v1/session/holds/confirm': {
      post: {
        summary: 'The sale: turn live holds (all, or those named) into claims, atomically (HOLDS_EXPIRED: nothing confirmed)', ...sessionBound,
        requestBody: { required: false, ...json({ type: 'object', additionalProperties: false, properties: { resources: names } }) },
        responses: { ...ok({ type: 'object', properties: { claims: { type: 'array', items: ref('Claim') } } }), ...errors },
      },
    },
    '/v1/session/transfer': {
      post: {
        summary: 'Move the session to a new id and key (records, holds, claims, user); the old id is gone', ...sessionBound,
        responses: { ...ok({ type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' }, nextTimeout: time } }, '201'), ...errors },
      },
    },
    '/v1/session/transactions': {
      post: {
        summary: 'Open a transaction, nested in the open ones (a savepoint); writes are seen by this session only until the outermost commit',
        ...sessionBound, ...noBody, responses: { ...ok(depthOf), ...errors },
      },
    },
    '/v1/session/transactions/commit': {
      post: {
        summary: 'Close the innermost transaction: merge it into its parent, or at depth 1 persist everything atomically (TRANSACTION_NOT_OPEN)',
        ...sessionBound, ...noBody, responses: { ...ok(depthOf), ...errors },
      },
    },
    '/v1/session/transactions/rollback': {
      post: {
        summary: 'Discard the innermost transaction (all with ?all=true), releasing the holds taken in it (TRANSACTION_NOT_OPEN)',
        ...sessionBound, ...noBody,
        parameters: [...sessionBound.parameters, { name: 'all', in: 'query', required: false, schema: { enum: ['true', 'false'] } }],
        responses: { ...ok(depthOf), ...errors },
      },
    },
    '/v1/session/cursors': {
      post: {
        summary: 'Open a cursor over a snapshot of a multiple record, taken now', ...sessionBound,
        requestBody: { required: true, ...json({ type: 'object', required: ['record'], additionalProperties: false, properties: {
          record: { type: 'string' }, pageSize: { type: 'integer', minimum: 1, maximum: 1000, default: 10 } } }) },
        responses: { ...ok({ type: 'object', properties: { cursor: { type: 'string' }, total: { type: 'integer' } } }, '201'), ...errors },
      },
    },
    '/v1/session/cursors/{cursor}': {
      get: {
        summary: 'The next items of a cursor, in key order (CURSOR_NOT_FOUND once closed or unused past the cursor timeout)', ...sessionBound,
        parameters: [...sessionBound.parameters, cursorParam,
          { name: 'count', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 }, description: 'Default: the page size.' }],
        responses: { ...ok({ type: 'object', properties: { items: { type: 'array', items: ref('Record') },
          position: { type: 'integer', description: 'Items delivered so far.' }, done: { type: 'boolean', description: 'position = total.' } } }), ...errors },
      },
      delete: {
        summary: 'Close a cursor', ...sessionBound, parameters: [...sessionBound.parameters, cursorParam],
        responses: { ...ok({ type: 'object', properties: { deleted: { const: true } } }), ...errors },
      },
    },
    '/v1/admin/pools/{name}': {
      put: {
        summary: "Set a pool's capacity", ...admin,
        parameters: [{ name: 'name', in: 'path', required: true, schema: holdName }],
        requestBody: { required: true, ...json({ type: 'object', required: ['capacity'], additionalProperties: false, properties: { capacity: { type: 'integer', minimum: 0 } } }) },
        responses: { '200': { description: 'Success', ...json({ type: 'object', properties: { pool: { type: 'string' }, capacity: { type: 'integer' }, available: { type: 'integer' } } }) }, ...errors },
      },
    },
    '/v1/admin/claims/{resource}': {
      delete: {
        summary: 'Free the claim on a resource, or every claim on a pool (CLAIM_NOT_FOUND)', ...admin, parameters: [resourceParam],
        responses: { '200': { description: 'Success', ...json({ type: 'object', properties: { deleted: { const: true } } }) }, ...errors },
      },
    },
    '/v1/admin/holds': {
      get: {
        summary: 'Live holds by name', ...admin,
        parameters: [{ name: 'prefix', in: 'query', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{0,200}$' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } }],
        responses: { '200': { description: 'Success', ...json(holdsOf) }, ...errors },
      },
    },
    '/v1/session/login': {
      post: {
        summary: 'Log in (a new key, no grace for the old one)', ...sessionBound,
        description: '401 LOGIN_FAILED (unknown user or wrong password: one answer, nothing rotated, no session headers); '
          + '429 LOGIN_THROTTLED with Retry-After (seconds) after login.maxFailures failures in login.window for the username or the session.',
        requestBody: { required: true, ...json({ oneOf: [
          { type: 'object', required: ['username', 'password'], additionalProperties: false,
            properties: { username: { type: 'string', minLength: 1, maxLength: 128 }, password: { type: 'string', maxLength: 1024 } } },
          { type: 'object', required: ['anonymous'], additionalProperties: false, properties: { anonymous: { const: true } } },
        ] }) },
        responses: { ...ok({ type: 'object', properties: { user: sessionUser } }), ...errors },
      },
    },
    '/v1/session/logout': {
      post: { summary: 'Log out (a new key, no grace)', ...sessionBound, responses: { ...ok({ type: 'object', properties: { message: { const: 'success' } } }), ...errors } },
    },
    '/v1/session/authorize': {
      post: {
        summary: 'Does the session user have any of these roles?', ...sessionBound,
        requestBody: { required: true, ...json({ type: 'object', required: ['anyOf'], additionalProperties: false, properties: { anyOf: roleNames } }) },
        responses: { ...ok({ type: 'object', properties: { allowed: { type: 'boolean' } } }), ...errors },
      },
    },
    '/v1/admin/users': {
      get: { summary: 'List users', ...adminOnly, responses: { ...plain({ type: 'object', properties: { users: { type: 'array', items: ref('User') } } }), ...errors } },
    },
    '/v1/admin/users/{name}': {
      get: { summary: 'Read a user', ...adminOnly, parameters: [userParam], responses: { ...plain(ref('User')), ...errors } },
      put: {
        summary: 'Create or change a user', ...adminOnly, parameters: [userParam],
        description: 'A new user needs a password. A new password ends the user\'s sessions; new roles reach them at their next request, with a new key.',
        requestBody: { required: true, ...json({ type: 'object', additionalProperties: false,
          properties: { password: { type: 'string', minLength: 1, maxLength: 1024 }, roles: roleNames } }) },
        responses: { ...plain(ref('User')), ...errors },
      },
      delete: {
        summary: 'Remove a user and end its sessions', ...adminOnly, parameters: [userParam],
        responses: { ...plain({ type: 'object', properties: { deleted: { const: true }, ended: { type: 'integer' } } }), ...errors },
      },
    },
    '/v1/admin/sessions': {
      get: {
        summary: 'List live sessions (of one user with ?user=), in id order', ...adminOnly,
        parameters: [
          { name: 'user', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'after', in: 'query', required: false, schema: { type: 'string' }, description: 'The next of the previous page.' },
        ],
        responses: { ...plain({ type: 'object', properties: { sessions: { type: 'array', items: ref('AdminSession') }, next: { type: ['string', 'null'] } } }), ...errors },
      },
      delete: {
        summary: 'End every session of a user', ...adminOnly,
        parameters: [{ name: 'user', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { ...plain({ type: 'object', properties: { ended: { type: 'integer' } } }), ...errors },
      },
    },
    '/v1/admin/sessions/{id}': {
      get: { summary: 'Read a session (does not touch it)', ...adminOnly, parameters: [idParam], responses: { ...plain(ref('AdminSession')), ...errors } },
      delete: { summary: 'End a session', ...adminOnly, parameters: [idParam],
        responses: { ...plain({ type: 'object', properties: { message: { const: 'success' } } }), ...errors } },
    },
    '/rest/webapi/SessionKeepAlive': {
      post: {
        summary: 'Keep a session alive by its id (Futurama WebAPI; portal or admin clients)', security: [{ client: [] }],
        requestBody: { required: true, ...json({ type: 'object', required: ['sessionID'], properties: { sessionID: { type: 'string' } } }) },
        responses: {
          '200': { description: 'Kept alive', ...json({ type: 'object', properties: { Message: { const: 'success' }, NextTimeout: time } }) },
          '4XX': futuramaFailure, '503': futuramaFailure,
        },
      },
    },
    '/rest/webapi/SessionEnd': {
      post: {
        summary: 'End a session by its id (Futurama WebAPI; portal or admin clients)', security: [{ client: [] }],
        requestBody: { required: true, ...json({ type: 'object', required: ['sessionID'], properties: { sessionID: { type: 'string' } } }) },
        responses: { '200': { description: 'Ended', ...json({ type: 'object', properties: { Message: { const: 'success' } } }) }, '4XX': futuramaFailure, '503': futuramaFailure },
      },
    },
    '/soap': {
      get: {
        summary: 'The WSDL (GET /soap?wsdl)', parameters: [{ name: 'wsdl', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'WSDL 1.1, document/literal', content: { 'text/xml': { schema: { type: 'string' } } } } },
      },
      post: {
        summary: 'SOAP 1.1 (text/xml + SOAPAction) and 1.2 (application/soap+xml): the seventeen operations of the WSDL', security: [{ client: [] }],
        requestBody: { required: true, ...soapXml },
        responses: { '200': { description: 'The answer envelope', ...soapXml }, '4XX': { description: 'A Fault', ...soapXml }, '500': { description: 'A SOAP 1.1 Fault', ...soapXml } },
      },
    },
    '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'Up' } } } },
    '/readyz': { get: { summary: 'The store is reachable', responses: { '200': { description: 'Ready' }, '503': error('STORE_UNAVAILABLE') } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
  },
} as const;
