// A tiny HTTP client for the load process's own requests (session set-up, the
// lost-update check, the holds race). Loopback only.
import http from 'node:http';

export const LOOPBACK = '127.0.0.1';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

export function assertLoopback(url: string | URL): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' || u.hostname !== LOOPBACK) {
    throw new Error(`refusing ${u.href}: the bench only talks to ${LOOPBACK}`);
  }
  return u;
}

export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets });
}

export function call(
  agent: http.Agent,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 15_000,
): Promise<Reply> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function parseJson(reply: Reply): any {
  try {
    return JSON.parse(reply.text);
  } catch {
    return undefined;
  }
}

/** "404 {"error":...}" trimmed, for skip reasons and errors. */
export function describe(reply: Reply): string {
  const text = reply.text.replace(/\s+/g, ' ').slice(0, 160);
  return `${reply.status}${text ? ` ${text}` : ''}`;
}

/** Cookie pair (name=value) out of Set-Cookie, or undefined. */
export function cookieFrom(headers: http.IncomingHttpHeaders): string | undefined {
  const set = headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  return first?.split(';', 1)[0];
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
