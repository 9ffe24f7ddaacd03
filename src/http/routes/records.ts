import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../service/tessera.js';
import { SESSION, sessionHeaders, withSession } from '../session.js';

type Params = { name: string; key?: string };

/** Section 5: records and entries of records. */
export function recordRoutes(app: FastifyInstance, tessera: Tessera): void {
  const config = { access: SESSION };

  app.get('/v1/session/records', { config }, withSession(tessera, async (ctx) => tessera.listRecords(ctx)));

  app.get<{ Params: Params }>('/v1/session/records/:name', { config },
    withSession(tessera, async (ctx, request) => tessera.getRecord(ctx, (request.params as Params).name)));

  app.get<{ Params: Params }>('/v1/session/records/:name/:key', { config },
    withSession(tessera, async (ctx, request) => {
      const p = request.params as Params;
      return tessera.getRecord(ctx, p.name, p.key);
    }));

  for (const path of ['/v1/session/records/:name', '/v1/session/records/:name/:key']) {
    // Not withSession: the authentication and the write go to the store as one step where the engine can.
    app.put<{ Params: Params }>(path, { config }, async (request, reply) => {
      const p = request.params as Params;
      return tessera.authenticateAndPut(request.client!, request.headers['session-id'], request.headers['session-key'],
        { name: p.name, key: p.key, body: request.body, ifMatch: request.headers['if-match'] }, (ctx) => sessionHeaders(reply, ctx));
    });
    app.delete<{ Params: Params }>(path, { config }, withSession(tessera, async (ctx, request) => {
      const p = request.params as Params;
      return tessera.deleteRecord(ctx, p.name, p.key, request.headers['if-match']);
    }));
  }
}
