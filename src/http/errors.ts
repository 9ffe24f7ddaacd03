import { ERRORS, invalid, TesseraError, type ErrorCode } from '../core/errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/**
 * The one place where any error becomes a status and a body. Errors of our
 * own carry their code; Fastify's parser errors and the store's driver errors
 * map to catalogue codes; anything else is INTERNAL_ERROR, with no stack.
 */
export function toTesseraError(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; name?: unknown; validation?: unknown };
  if (Array.isArray(e?.validation) && e.validation.length > 0) return schemaError(e.validation[0], (err as { validationContext?: string }).validationContext);
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new TesseraError('PAYLOAD_TOO_LARGE');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_TYPE') return new TesseraError('UNSUPPORTED_MEDIA_TYPE');
  if (code.startsWith('SQLITE_') || e?.name === 'StoreUnavailableError') return new TesseraError('STORE_UNAVAILABLE');
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 404) return new TesseraError('NOT_FOUND');
  if (status === 413) return new TesseraError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new TesseraError('UNSUPPORTED_MEDIA_TYPE');
  if (status >= 400 && status < 500) return new TesseraError('INVALID_REQUEST');
  return new TesseraError('INTERNAL_ERROR');
}

export function errorBody(err: TesseraError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message || ERRORS[err.code].message } };
  if (err.details !== undefined) body.error.details = err.details;
  return body;
}

/** One error of Ajv, as Fastify's validation attaches it. */
interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * A refusal by a route's schema, as INVALID_REQUEST naming the field (in
 * `details.field`, as the use cases' own checks do). `where` is the part of
 * the request: body, params, querystring or headers.
 */
function schemaError(error: SchemaError, where = 'body'): TesseraError {
  const path = error.instancePath.split('/').filter(Boolean);
  let field = where === 'headers' && path[0] === 'if-match' ? 'If-Match' : path[0];
  if (error.keyword === 'additionalProperties') {
    field = String(error.params.additionalProperty);
    return invalid(where === 'querystring' ? `Unknown query parameter '${field}'.` : `Unknown property '${field}'.`, field);
  }
  if (error.keyword === 'required') {
    field = String(error.params.missingProperty);
    return invalid(where === 'body' ? `The body needs a '${field}'.` : `'${field}' is required.`, field);
  }
  if (field === undefined) return invalid(where === 'body' ? 'The body must be a JSON object.' : 'The request is malformed.');
  const name = where === 'params' ? `The path's '${field}'` : `'${path.join('.') || field}'`;
  // A value outside a list names the list, not "one of the allowed values".
  if (error.keyword === 'enum') return invalid(`${name} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}.`, field);
  return invalid(`${name} ${error.message ?? 'is not valid'}.`, field);
}
