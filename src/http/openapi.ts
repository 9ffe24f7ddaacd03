import type { SwaggerOptions } from '@fastify/swagger';
import { BODY_OPTIONAL, securitySchemes } from './schemas.js';

/**
 * How @fastify/swagger builds /openapi.json from the route schemas (see
 * schemas.ts): OpenAPI 3.1, shared schemas named by their $id in
 * components.schemas. The document has nothing written by hand but these
 * headings; `npm test` lints it with Redocly's recommended rules.
 */
export const openapiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: '1',
      description: 'Sessions with rotating keys, serialized requests, typed records, transactions (nested scopes), cursors, '
        + 'holds with fencing tokens and transfer. Errors: docs/errors.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This server.' }],
    components: { securitySchemes },
    tags: [
      { name: 'sessions', description: 'Create, read, keep alive, end and transfer a session.' },
      { name: 'records', description: 'Typed records and entries of multiple records.' },
      { name: 'transactions', description: 'Transactions (a stack of scopes per session) and cursors.' },
      { name: 'holds', description: 'Holds on resources and pools, the sale (confirm) and claims.' },
      { name: 'users', description: 'Login, logout, authorize.' },
      { name: 'admin', description: 'Admin clients only: users, sessions, pools, claims, holds, the event stream, metrics.' },
      { name: 'service', description: 'Health, readiness and this document.' },
    ],
  },
  convertConstToEnum: false,
  refResolver: {
    buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
  },
  // @fastify/swagger marks every request body required; a route whose body may be left out says so (BODY_OPTIONAL).
  transformObject: (documentObject) => {
    const doc = (documentObject as { openapiObject: { paths?: Record<string, Record<string, Record<string, unknown>>> } }).openapiObject;
    for (const methods of Object.values(doc.paths ?? {})) {
      for (const operation of Object.values(methods)) {
        if (!operation[BODY_OPTIONAL]) continue;
        delete operation[BODY_OPTIONAL];
        (operation.requestBody as { required: boolean }).required = false;
      }
    }
    return doc;
  },
};
