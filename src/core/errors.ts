/**
 * The error catalogue: every error Tessera answers with, in one place.
 * Domain code throws `TesseraError(code)`; only the HTTP layer turns the
 * status into a response. `docs/errors.md` lists the same codes (a test keeps
 * them equal).
 */
export const ERRORS = {
  INVALID_REQUEST: { status: 400, message: 'The request is malformed.' },
  VALIDATION_FAILED: { status: 400, message: 'The value does not match the record schema.' },
  RECORD_UNDECLARED: { status: 400, message: 'This record name is not declared and strictRecords is on.' },
  CLIENT_UNAUTHORIZED: { status: 401, message: 'A valid client token is required.' },
  SESSION_INVALID: { status: 401, message: 'The session credentials are unknown, malformed or expired.' },
  SESSION_KEY_REPLAYED: { status: 401, message: 'A superseded session key was presented; the session has been revoked.' },
  LOGIN_FAILED: { status: 401, message: 'Unknown user or wrong password.' },
  FORBIDDEN: { status: 403, message: 'The caller lacks a role this operation needs.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  RECORD_NOT_FOUND: { status: 404, message: 'The record does not exist or has expired.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  CURSOR_NOT_FOUND: { status: 404, message: 'The cursor does not exist or has expired.' },
  CLAIM_NOT_FOUND: { status: 404, message: 'Nothing is claimed under this name.' },
  POOL_NOT_FOUND: { status: 404, message: 'No pool has this name.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This route does not take that method.' },
  NOT_ACCEPTABLE: { status: 406, message: 'The requested response type is not offered.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive whole in time; the connection is closed.' },
  SESSION_BUSY: { status: 409, message: 'Another request of this session is in progress and the session does not queue.' },
  LIMIT_EXCEEDED: { status: 409, message: 'A record or entry limit would be exceeded.' },
  TRANSACTION_NOT_OPEN: { status: 409, message: 'No transaction is open.' },
  TRANSACTION_ABORTED: { status: 409, message: 'The open transaction was rolled back after being idle too long.' },
  HOLD_CONFLICT: { status: 409, message: 'A resource is held by another session or already claimed.' },
  POOL_EXHAUSTED: { status: 409, message: 'The pool does not have the requested quantity left.' },
  HOLDS_EXPIRED: { status: 409, message: 'Holds of this session have expired.' },
  VERSION_MISMATCH: { status: 412, message: 'The record version does not match If-Match.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is over the size limit.' },
  RECORD_TOO_LARGE: { status: 413, message: 'The record value is over the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body type is not supported.' },
  LOGIN_THROTTLED: { status: 429, message: 'Too many failed logins; try again later.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  INTERNAL_ERROR: { status: 500, message: 'An unexpected error occurred.' },
  STORE_UNAVAILABLE: { status: 503, message: 'The session store is unavailable.' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; send the request again (another node will take it).' },
  QUEUE_TIMEOUT: { status: 503, message: 'The request waited too long behind earlier requests of its session.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.name = 'TesseraError';
    this.code = code;
    this.status = ERRORS[code].status;
    if (details !== undefined) this.details = details;
  }
}

export function invalid(message: string, field?: string): TesseraError {
  return new TesseraError('INVALID_REQUEST', message, field === undefined ? undefined : { field });
}
