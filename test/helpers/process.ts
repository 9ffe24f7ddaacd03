import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `tessera` as a real process, from the TypeScript sources (no build needed). */
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The `listening on` line: a JSON log line on stdout, `{ ..., "url": "http://HOST:PORT", "msg": "listening on http://HOST:PORT" }`. */
export const LISTENING = /^\{.*"url":"(http:\/\/[^"]+)","msg":"listening on /m;

export interface Serving {
  child: ChildProcess;
  /** `http://HOST:PORT` from the `listening on` line. */
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** What it printed on stdout alone, and on stderr alone. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `tessera serve ARGS` and resolves once it prints its `listening on` line (20 s at most). */
export function startServe(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Serving> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', ...args],
    { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no listening line:\n${out}`)); }, 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      stdout += chunk.toString();
      const m = LISTENING.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child, url: m[1], output: () => out, stdout: () => stdout, stderr: () => stderr,
          stop: () => new Promise((done) => { child.once('exit', (code) => done(code)); child.kill('SIGTERM'); }),
        });
      }
    });
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); stderr += c.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

/** Runs `tessera ARGS` to its end (killed after 20 s): its exit code and output. */
export function runCli(args: string[], options: { cwd: string; stdin?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); }));
}
