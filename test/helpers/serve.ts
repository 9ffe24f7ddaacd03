/** `tessera serve` as real processes, for the multi-node and fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The `listening on` line: a JSON log line on stdout, `{ ..., "url": "http://HOST:PORT", "msg": "listening on http://HOST:PORT" }`. */
export const LISTENING = /^\{.*"url":"(http:\/\/[^"]+)","msg":"listening on /m;

export interface Node { child: ChildProcess; url: string; output: () => string; exited: () => boolean }

export function startServe(args: string[], cwd: string): Promise<Node> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  child.on('exit', () => { exited = true; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no listening line:\n${out}`)); }, 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = LISTENING.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], output: () => out, exited: () => exited }); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

export function stopServe(n: Node): Promise<number | null> {
  if (n.exited()) return Promise.resolve(n.child.exitCode);
  return new Promise((resolve) => { n.child.once('exit', (code) => resolve(code)); n.child.kill('SIGTERM'); });
}

export interface HttpAnswer { status: number; body: any; headers: Headers; ms: number }

/** One request; a network failure answers status 0. */
export async function http(url: string, method: string, path: string, opts: { token: string; body?: unknown; headers?: Record<string, string> }): Promise<HttpAnswer> {
  const started = performance.now();
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token}`, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body, headers: res.headers, ms: performance.now() - started };
  } catch {
    return { status: 0, body: null, headers: new Headers(), ms: performance.now() - started };
  }
}
