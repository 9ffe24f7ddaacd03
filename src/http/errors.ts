import { ERRORS, TesseraError, type ErrorCode } from '../core/errors.js';

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
  const e = err as { code?: unknown; statusCode?: unknown; name?: unknown };
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
