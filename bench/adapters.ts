// How each kind of system is spoken to: what one request of a workload looks
// like, how a connection gets its own session, and how the session credentials
// carried by a response (a rotated Session-Key, a new cookie) are picked up for
// the next request of that connection.
import type http from 'node:http';
import { call, cookieFrom, describe, header, parseJson } from './http.js';

export type AdapterKind = 'baseline' | 'peer' | 'tessera';
export type HttpWorkload = 'keepalive' | 'write' | 'create';

export interface RequestShape {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
}

/** One connection's session: the headers it sends, and its counter value. */
export interface ConnState {
  headers: Record<string, string>;
  body?: string;
  n: number;
}

export interface Ctx {
  base: URL;
  agent: http.Agent;
  token?: string;
}

export interface Adapter {
  shape(workload: HttpWorkload): RequestShape;
  /** A fresh connection state; for session workloads this creates the session. */
  prepare(ctx: Ctx, workload: HttpWorkload): Promise<ConnState>;
  /**
   * Takes in a response's raw header list ([name, value, name, value, ...]).
   * Returns true when the next request of the connection must change.
   */
  update(workload: HttpWorkload, state: ConnState, status: number, rawHeaders: string[]): boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };

function rawHeader(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function tesseraBody(workload: HttpWorkload, n: number): string {
  if (workload === 'keepalive') return '{"touchRecords":false}';
  if (workload === 'write') return `{"value":${n}}`;
  return '{}';
}

const TESSERA_SHAPES: Record<HttpWorkload, RequestShape> = {
  keepalive: { method: 'POST', path: '/v1/session/keepalive' },
  write: { method: 'PUT', path: '/v1/session/records/counter' },
  create: { method: 'POST', path: '/v1/sessions' },
};

/**
 * Bare Fastify gets the very request Tessera gets (same method, path, header
 * set and body size), and answers a small JSON without any session work.
 */
const baseline: Adapter = {
  shape: (w) => TESSERA_SHAPES[w],
  async prepare(ctx, workload) {
    const headers: Record<string, string> = { ...JSON_TYPE, authorization: `Bearer ${ctx.token ?? 'baseline'}` };
    if (workload !== 'create') {
      headers['session-id'] = 'baseline-0000000000000000000000';
      headers['session-key'] = 'baseline-000000000000000000000000000000000000000';
    }
    return { headers, body: tesseraBody(workload, 1), n: 1 };
  },
  update: () => false,
};

/** express-session and @fastify/session behind the same three routes. */
const peer: Adapter = {
  shape(workload) {
    if (workload === 'keepalive') return { method: 'GET', path: '/session' };
    if (workload === 'write') return { method: 'POST', path: '/counter' };
    return { method: 'POST', path: '/login' };
  },
  async prepare(ctx, workload): Promise<ConnState> {
    if (workload === 'create') return { headers: {}, n: 0 };
    const reply = await call(ctx.agent, ctx.base, 'POST', '/login', {});
    const cookie = cookieFrom(reply.headers);
    if (reply.status !== 201 || !cookie) throw new Error(`POST /login answered ${describe(reply)} without a session cookie`);
    return { headers: { cookie }, n: 0 };
  },
  update(workload, state, _status, raw) {
    if (workload === 'create') return false; // every request must come without a cookie
    const set = rawHeader(raw, 'set-cookie');
    const cookie = set?.split(';', 1)[0];
    if (!cookie || cookie === state.headers.cookie) return false;
    state.headers = { cookie };
    return true;
  },
};

/** Tessera over its HTTP protocol (docs/protocol.md), one session per connection. */
const tessera: Adapter = {
  shape: (w) => TESSERA_SHAPES[w],
  async prepare(ctx, workload) {
    const auth = { ...JSON_TYPE, authorization: `Bearer ${ctx.token}` };
    if (workload === 'create') return { headers: auth, body: tesseraBody(workload, 0), n: 0 };
    const { id, key } = await createTesseraSession(ctx, {});
    return { headers: { ...auth, 'session-id': id, 'session-key': key }, body: tesseraBody(workload, 1), n: 1 };
  },
  update(workload, state, _status, raw) {
    if (workload === 'create') return false;
    const key = rawHeader(raw, 'session-key');
    let changed = false;
    if (key && key !== state.headers['session-key']) {
      state.headers = { ...state.headers, 'session-key': key };
      changed = true;
    }
    if (workload === 'write') {
      state.n += 1;
      state.body = tesseraBody(workload, state.n);
      changed = true;
    }
    return changed;
  },
};

export const ADAPTERS: Record<AdapterKind, Adapter> = { baseline, peer, tessera };

export async function createTesseraSession(
  ctx: Ctx,
  options: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const reply = await call(ctx.agent, ctx.base, 'POST', '/v1/sessions', {
    ...JSON_TYPE,
    authorization: `Bearer ${ctx.token}`,
  }, JSON.stringify(options));
  const body = parseJson(reply);
  if (reply.status !== 201 || typeof body?.id !== 'string' || typeof body?.key !== 'string') {
    throw new Error(`POST /v1/sessions answered ${describe(reply)}`);
  }
  return { id: body.id, key: body.key };
}

/** Session headers of a Tessera reply: the key to send next, if it rotated. */
export function nextKey(headers: http.IncomingHttpHeaders, current: string): string {
  return header(headers, 'session-key') ?? current;
}
