import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { deleted, entryKey, ifMatchHeader, noBody, object, recordName, ref, sessionRoute } from '../schemas.js';
import { entered, rekeyed, SESSION } from '../session.js';

type Params = { name: string; key?: string };
type IfMatch = { 'if-match'?: string };

const tags = ['records'];
const named = object({ name: recordName }, ['name']);
const keyed = object({ name: recordName, key: entryKey }, ['name', 'key']);
const write = object({ value: { description: 'Any JSON value.' }, ttl: { type: 'integer', minimum: 1, description: 'Seconds; capped at the largest lifespan.' } }, ['value']);

/** docs/protocol.md#records: records and entries of records. */
export function recordRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: SESSION };

  app.get('/v1/session/records', {
    config,
    schema: sessionRoute({ operationId: 'listRecords', summary: 'List live records', tags,
      response: { 200: object({ records: { type: 'array', items: { anyOf: [ref('Record'), ref('MultipleRecord')] } } }) } }),
  }, async (request) => tessera.listRecords(entered(request)));

  app.get<{ Params: Params }>('/v1/session/records/:name', {
    config,
    schema: sessionRoute({ operationId: 'readRecord', summary: 'Read a record', tags, params: named,
      response: { 200: { anyOf: [ref('Record'), ref('MultipleRecord')] } } }),
  }, async (request) => tessera.getRecord(entered(request), request.params.name));

  app.get<{ Params: Params }>('/v1/session/records/:name/:key', {
    config,
    schema: sessionRoute({ operationId: 'readEntry', summary: 'Read one entry of a multiple record', tags, params: keyed, response: { 200: ref('Record') } }),
  }, async (request) => tessera.getRecord(entered(request), request.params.name, request.params.key));

  for (const [path, params, what] of [['/v1/session/records/:name', named, 'Record'], ['/v1/session/records/:name/:key', keyed, 'Entry']] as const) {
    // The handler enters the session itself: the authentication and the write go to the store as one step where the engine can.
    app.put<{ Params: Params; Headers: IfMatch }>(path, {
      config: { access: { ...SESSION, entersItself: true } },
      schema: sessionRoute({
        operationId: `write${what}`, summary: what === 'Record' ? 'Write a single record' : 'Write one entry of a multiple record', tags,
        params, headers: ifMatchHeader, body: write, response: { 200: ref('Record') },
      }),
    }, async (request, reply) => rekeyed(reply, await tessera.enterAndPut(request.client!, request.headers['session-id'], request.headers['session-key'],
      { name: request.params.name, key: request.params.key, body: request.body, ifMatch: request.headers['if-match'] })));

    app.delete<{ Params: Params; Headers: IfMatch }>(path, {
      config,
      schema: sessionRoute({
        operationId: `delete${what}`, summary: what === 'Record' ? 'Delete a record' : 'Delete one entry of a multiple record', tags,
        params, headers: ifMatchHeader, body: noBody, bodyOptional: true, response: { 200: deleted },
      }),
    }, async (request) => tessera.deleteRecord(entered(request), request.params.name, request.params.key, request.headers['if-match']));
  }
}
