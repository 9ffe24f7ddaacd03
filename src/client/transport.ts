import { TesseraClientError, type ClientErrorCode } from './errors.js';

/** How the client reaches a server: its URL, an API-client token, a fetch. */
export interface TransportOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** An API client's token (`Authorization: Bearer`); none in open mode. */
  token?: string;
  /** A fetch of your own (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface SendOptions {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | undefined>;
}

export interface Sent {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One HTTP exchange: JSON in, JSON out; an error answer becomes a TesseraClientError. */
export class Transport {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TransportOptions) {
    this.base = options.url.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('tessera/client needs a fetch (Node 20+ and browsers have one).');
    this.fetch = f;
  }

  /** Sends once. A network failure throws NETWORK_ERROR; an error answer is returned as it came. */
  async send(o: SendOptions): Promise<Sent> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers, ...o.headers };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    let url = this.base + o.path;
    const query = o.query && Object.entries(o.query).filter((e): e is [string, string] => e[1] !== undefined);
    if (query && query.length > 0) url += `?${new URLSearchParams(query).toString()}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(url, { method: o.method, headers, body });
      text = await res.text();
    } catch (e) {
      throw new TesseraClientError('NETWORK_ERROR', 0, `No answer from ${this.base}: ${(e as Error)?.message ?? e}`, undefined, { cause: e });
    }
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** Sends once and throws the error of an error answer. */
  async json(o: SendOptions): Promise<unknown> {
    const sent = await this.send(o);
    if (sent.status >= 400) throw errorOf(sent);
    return sent.body;
  }
}

/** The TesseraClientError of an error answer. */
export function errorOf(sent: Sent): TesseraClientError {
  const err = (sent.body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  const code = (typeof err?.code === 'string' ? err.code : sent.status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST') as ClientErrorCode;
  return new TesseraClientError(code, sent.status, err?.message ?? `HTTP ${sent.status}`, err?.details);
}
