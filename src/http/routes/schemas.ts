import type {} from '@fastify/swagger'; // its route schema keys: operationId, summary, tags
import { ERRORS } from '../../core/errors.js';

/** Route schema pieces shared by the admin routes of events, metrics, pools and claims. */
const errorBody = {
  type: 'object', required: ['error'],
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: { code: { enum: Object.keys(ERRORS) }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
    },
  },
};

/** The answers of every admin route besides its success. */
export const errorResponses = {
  '4xx': { description: 'An error from the catalogue (CLIENT_UNAUTHORIZED, FORBIDDEN, INVALID_REQUEST, ...)', ...errorBody },
  503: { description: 'STORE_UNAVAILABLE or SHUTTING_DOWN', ...errorBody },
};
