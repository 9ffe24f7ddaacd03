import type { FastifyInstance } from 'fastify';
import { MAX_PAGE } from '../../core/transactions.js';
import type { Tessera } from '../../service/tessera.js';
import { deleted, depth, noBody, object, pageSize, recordName, ref, sessionRoute, wholeNumber } from '../schemas.js';
import { entered, SESSION } from '../session.js';

type CursorParams = { cursor: string };

const tags = ['transactions'];
const cursor = object({ cursor: { type: 'string', description: 'A cursor id (anything else is CURSOR_NOT_FOUND).' } }, ['cursor']);

/** docs/protocol.md#transactions-and-nested-scopes and #cursors: transactions (a stack of scopes) and cursors. */
export function transactionRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: SESSION };
  const t = tessera.transactions;

  app.post('/v1/session/transactions', {
    config,
    schema: sessionRoute({
      operationId: 'beginTransaction', tags, body: noBody, bodyOptional: true, response: { 200: depth },
      summary: 'Open a transaction, nested in the open ones (a savepoint); writes are seen by this session only until the outermost commit',
    }),
  }, async (request) => t.begin(entered(request), request.body));

  app.post('/v1/session/transactions/commit', {
    config,
    schema: sessionRoute({
      operationId: 'commitTransaction', tags, body: noBody, bodyOptional: true, response: { 200: depth },
      summary: 'Close the innermost transaction: merge it into its parent, or at depth 1 persist everything atomically (TRANSACTION_NOT_OPEN)',
    }),
  }, async (request) => t.commit(entered(request), request.body));

  app.post<{ Querystring: { all?: string } }>('/v1/session/transactions/rollback', {
    config,
    schema: sessionRoute({
      operationId: 'rollbackTransaction', tags, body: noBody, bodyOptional: true, response: { 200: depth },
      summary: 'Discard the innermost transaction (all with ?all=true), releasing the holds taken in it (TRANSACTION_NOT_OPEN)',
      querystring: { type: 'object', properties: { all: { type: 'string', enum: ['true', 'false'] } } },
    }),
  }, async (request) => t.rollback(entered(request), request.query, request.body));

  app.post('/v1/session/cursors', {
    config,
    schema: sessionRoute({
      operationId: 'openCursor', summary: 'Open a cursor over a snapshot of a multiple record, taken now', tags,
      body: object({ record: recordName, pageSize: { ...pageSize, description: 'Default 10.' } }, ['record']),
      response: { 201: object({ cursor: { type: 'string' }, total: { type: 'integer' } }) },
    }),
  }, async (request, reply) => {
    const opened = await tessera.cursors.open(entered(request), request.body);
    reply.code(201);
    return opened;
  });

  app.get<{ Params: CursorParams; Querystring: { count?: string } }>('/v1/session/cursors/:cursor', {
    config,
    schema: sessionRoute({
      operationId: 'readCursor', summary: 'The next items of a cursor, in key order (CURSOR_NOT_FOUND once closed or unused past the cursor timeout)', tags,
      params: cursor, querystring: { type: 'object', properties: { count: wholeNumber(MAX_PAGE, 'Default: the page size.') } },
      response: {
        200: object({
          items: { type: 'array', items: ref('Record') }, position: { type: 'integer', description: 'Items delivered so far.' },
          done: { type: 'boolean', description: 'position = total.' },
        }),
      },
    }),
  }, async (request) => tessera.cursors.page(entered(request), request.params.cursor, request.query));

  app.delete<{ Params: CursorParams }>('/v1/session/cursors/:cursor', {
    config,
    schema: sessionRoute({ operationId: 'closeCursor', summary: 'Close a cursor', tags, params: cursor, body: noBody, bodyOptional: true, response: { 200: deleted } }),
  }, async (request) => tessera.cursors.close(entered(request), request.params.cursor));
}
