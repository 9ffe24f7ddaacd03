/**
 * The admin API as the page calls it: same origin, the admin token as a bearer
 * token, JSON in and out. Browser code: it imports nothing from the server.
 */

const TOKEN_KEY = 'tessera.adminToken';

/** The token lives in this tab's sessionStorage only: never localStorage, never a URL. */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** An error answer of the API: its status and catalogue code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }

  /** The route itself is missing (an older server): the page shows "not available". */
  get unavailable(): boolean {
    return this.status === 404 && this.code === 'NOT_FOUND';
  }
}

/** Called when the server stops accepting the token (401): the page signs out. */
let onUnauthorized: (e: ApiError) => void = () => {};
export function whenUnauthorized(handler: (e: ApiError) => void): void {
  onUnauthorized = handler;
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token.get() ?? ''}`, ...extra };
}

export async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json() as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch { /* not a JSON error body */ }
  return new ApiError(res.status, code, message);
}

/** GET routes this server answered 404 NOT_FOUND (not there at all): not asked again until the next sign-in. */
const missing = new Map<string, ApiError>();
export function forgetMissing(): void {
  missing.clear();
}

async function call(method: 'GET' | 'PUT' | 'DELETE', path: string, accept: string, body?: unknown): Promise<Response> {
  const route = path.split('?')[0];
  const known = method === 'GET' ? missing.get(route) : undefined;
  if (known) throw known;
  const headers = authHeaders({ accept });
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  // Signed out (or in again) while this was under way: its answer belongs to nobody on the page now.
  if (authHeaders().authorization !== headers.authorization) throw new ApiError(0, 'SIGNED_OUT', 'Signed out.');
  if (!res.ok) {
    const e = await errorOf(res);
    if (e.status === 401) onUnauthorized(e);
    if (e.unavailable && method === 'GET') missing.set(route, e);
    throw e;
  }
  return res;
}

/** One call; throws ApiError for any answer but 2xx. */
export async function api<T>(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return await (await call(method, path, 'application/json', body)).json() as T;
}

/** A GET of a text answer (GET /metrics). */
export async function apiText(path: string): Promise<string> {
  return (await call('GET', path, 'text/plain')).text();
}

/** The value of an unlabelled sample in Prometheus text, or null. */
export function sample(text: string, name: string): number | null {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- the shapes the page reads ---------------------------------------------

export interface AdminSession {
  id: string;
  client: string;
  user: { name: string; roles?: string[] } | string | null;
  createdAt: string;
  lastAccessAt: string;
  nextTimeout: string;
}

export interface AdminHold {
  resource?: string;
  pool?: string;
  quantity?: number;
  token: number;
  expiresAt: string;
  sessionId: string;
}

export interface Claim {
  resource?: string;
  pool?: string;
  quantity?: number;
  token?: number;
  confirmedAt?: string;
  sessionId?: string;
}

export interface Pool {
  name: string;
  capacity: number;
  held: number;
  claimed: number;
  free: number;
}

export interface TesseraEvent {
  type: string;
  at: string;
  sessionId?: string;
  user?: string;
  resource?: string;
  to?: string;
  /** A `gap` (events missed): `backlog` (older than the server keeps) or `slow` (`dropped` of them). */
  reason?: string;
  dropped?: number;
}

/** A list answer may be a bare array or `{ <key>: [...] }`. */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(inner) ? inner as T[] : [];
}
