import type { FastifyInstance } from 'fastify';
import { HOLD_LIST, MAX_HOLD_LIST } from '../../core/holds.js';
import type { Tessera } from '../../service/tessera.js';
import { clientRoute, holdName, holdPrefix, object, ref, wholeNumber } from '../schemas.js';
import { ADMIN } from '../session.js';

/** Pools and claims, read: admin clients only (docs/operations.md). */
export function poolRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: ADMIN };
  const tags = ['admin'];
  const holds = tessera.holds;

  app.get('/v1/admin/pools', {
    config,
    schema: clientRoute({
      operationId: 'listPools', summary: 'Every pool with its capacity and use, by name', tags,
      response: { 200: object({ pools: { type: 'array', items: ref('Pool') } }, ['pools']) },
    }),
  }, async () => holds.pools());

  app.get<{ Params: { name: string } }>('/v1/admin/pools/:name', {
    config,
    schema: clientRoute({
      operationId: 'getPool', summary: 'One pool with its capacity and use (POOL_NOT_FOUND)', tags,
      params: object({ name: holdName }, ['name']), response: { 200: ref('Pool') },
    }),
  }, async (request) => holds.pool(request.params.name));

  app.get<{ Querystring: { prefix?: string; limit?: string } }>('/v1/admin/claims', {
    config,
    schema: clientRoute({
      operationId: 'listClaims', summary: 'Claims (sales) by name, then session', tags,
      querystring: { type: 'object', properties: { prefix: holdPrefix, limit: wholeNumber(MAX_HOLD_LIST, `Default ${HOLD_LIST}.`) } },
      response: { 200: object({ claims: { type: 'array', items: ref('Claim') } }, ['claims']) },
    }),
  }, async (request) => holds.listClaims(request.query));
}
