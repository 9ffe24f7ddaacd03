import type { ErrorCode } from '../core/errors.js';

/** Codes of the server's catalogue, and NETWORK_ERROR for an answer that never came. */
export type ClientErrorCode = ErrorCode | 'NETWORK_ERROR';

/**
 * An error answer of a Tessera server, typed by its code:
 * `if (err instanceof TesseraClientError && err.code === 'HOLDS_EXPIRED')`.
 * `status` is 0 for NETWORK_ERROR.
 */
export class TesseraClientError extends Error {
  readonly code: ClientErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ClientErrorCode, status: number, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraClientError';
    this.code = code;
    this.status = status;
    if (details !== undefined) this.details = details;
  }
}

/** True when `err` is a Tessera error (of the client, or of the service in-process) with this code. */
export function isTesseraError(err: unknown, code?: ClientErrorCode): err is { code: ClientErrorCode; status: number; details?: Record<string, unknown>; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const name = (err as { name?: unknown }).name;
  if (name !== 'TesseraClientError' && name !== 'TesseraError') return false;
  return code === undefined || (err as { code?: unknown }).code === code;
}
