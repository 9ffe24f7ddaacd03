import type { FastifyInstance } from 'fastify';
import { HOLD_LIST, MAX_HOLD_LIST } from '../../core/holds.js';
import type { Tessera } from '../../service/tessera.js';
import {
  clientRoute, creatingRoute, deleted, holdList, holdName, holdNames, holdPrefix, noBody, object, ref, released, sessionRoute, wholeNumber,
} from '../schemas.js';
import { ADMIN, createdHeaders, entered, SESSION } from '../session.js';

type Named = { resource: string };

const tags = ['holds'];
const ttl = { type: 'integer', minimum: 1, description: 'Seconds; capped at holds.maxTtl.' };
const resource = object({ resource: holdName }, ['resource']);

/** docs/protocol.md#holds-and-the-sale and #transfer: holds, the sale, transfer; and the admin routes of pools, claims and holds. */
export function holdRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: SESSION };
  const admin = { access: ADMIN };

  app.post('/v1/session/holds', {
    config,
    schema: sessionRoute({
      operationId: 'hold', summary: 'Hold resources, or units of a pool, all or nothing (HOLD_CONFLICT, POOL_EXHAUSTED)', tags,
      description: "The body names either `resources` or a `pool` with a `quantity`.",
      body: object({ resources: holdNames, pool: holdName, quantity: { type: 'integer', minimum: 1 }, ttl }),
      response: { 201: holdList },
    }),
  }, async (request, reply) => {
    const result = await tessera.holds.hold(entered(request), request.body);
    reply.code(201);
    return result;
  });

  app.get('/v1/session/holds', {
    config,
    schema: sessionRoute({
      operationId: 'listHolds', summary: "The session's live holds and claims; HOLDS_EXPIRED once when some expired since the last read", tags,
      response: { 200: object({ holds: { type: 'array', items: ref('Hold') }, claims: { type: 'array', items: ref('Claim') } }) },
    }),
  }, async (request) => tessera.holds.list(entered(request)));

  app.post('/v1/session/holds/renew', {
    config,
    schema: sessionRoute({ operationId: 'renewHolds', summary: 'Extend every live hold', tags, body: object({ ttl }), bodyOptional: true, response: { 200: holdList } }),
  }, async (request) => tessera.holds.renew(entered(request), request.body));

  app.post('/v1/session/holds/confirm', {
    config,
    schema: sessionRoute({
      operationId: 'confirmHolds', summary: 'The sale: turn live holds (all, or those named) into claims, atomically (HOLDS_EXPIRED: nothing confirmed)', tags,
      body: object({ resources: holdNames }), bodyOptional: true,
      response: { 200: object({ claims: { type: 'array', items: ref('Claim') } }) },
    }),
  }, async (request) => tessera.holds.confirm(entered(request), request.body));

  app.delete('/v1/session/holds', {
    config,
    schema: sessionRoute({ operationId: 'releaseHolds', summary: 'Release every hold of the session', tags, body: noBody, bodyOptional: true, response: { 200: released } }),
  }, async (request) => tessera.holds.release(entered(request)));

  app.delete<{ Params: Named }>('/v1/session/holds/:resource', {
    config,
    schema: sessionRoute({ operationId: 'releaseHold', summary: 'Release one hold', tags, params: resource, body: noBody, bodyOptional: true, response: { 200: released } }),
  }, async (request) => tessera.holds.release(entered(request), request.params.resource));

  app.post('/v1/session/transfer', {
    config: { access: { ...SESSION, noBody: true } },
    schema: creatingRoute({
      operationId: 'transferSession', summary: 'Move the session to a new id and key (records, holds, claims, user); the old id is gone', tags: ['sessions'],
      body: noBody, bodyOptional: true,
      response: { 201: object({ id: { type: 'string' }, key: { type: 'string' }, nextTimeout: { type: 'string', format: 'date-time' } }) },
    }, 'session'),
  }, async (request, reply) => {
    const created = await tessera.transfer(entered(request));
    createdHeaders(reply, created);
    return created;
  });

  const adminTags = ['admin'];
  app.put<{ Params: { name: string } }>('/v1/admin/pools/:name', {
    config: admin,
    schema: clientRoute({
      operationId: 'setPool', summary: "Set a pool's capacity", tags: adminTags, params: object({ name: holdName }, ['name']),
      body: object({ capacity: { type: 'integer', minimum: 0 } }, ['capacity']),
      response: { 200: object({ pool: { type: 'string' }, capacity: { type: 'integer' }, available: { type: 'integer' } }) },
    }),
  }, async (request) => tessera.holds.setPool(request.params.name, request.body));

  app.delete<{ Params: Named }>('/v1/admin/claims/:resource', {
    config: admin,
    schema: clientRoute({
      operationId: 'freeClaim', summary: 'Free the claim on a resource, or every claim on a pool (CLAIM_NOT_FOUND)', tags: adminTags,
      params: resource, body: noBody, bodyOptional: true, response: { 200: deleted },
    }),
  }, async (request) => tessera.holds.freeClaim(request.params.resource));

  app.get<{ Querystring: { prefix?: string; limit?: string } }>('/v1/admin/holds', {
    config: admin,
    schema: clientRoute({
      operationId: 'listAllHolds', summary: 'Live holds by name', tags: adminTags,
      querystring: { type: 'object', properties: { prefix: holdPrefix, limit: wholeNumber(MAX_HOLD_LIST, `Default ${HOLD_LIST}.`) } },
      response: { 200: holdList },
    }),
  }, async (request) => tessera.holds.listAll(request.query));
}
