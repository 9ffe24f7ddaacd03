import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * What the command line says, in one style: `tessera: <what>: <why>` on
 * stderr, exit code 2 for a usage error (a bad flag, a bad config) and 1 for
 * a failure (a store that does not answer, a port in use, no such user).
 */
export class CliError extends Error {
  constructor(readonly what: string, readonly why: string, readonly exitCode: 1 | 2 = 1) {
    super(`${what}: ${why}`);
    this.name = 'CliError';
  }
}

/** A usage error: exit code 2. */
export function usage(what: string, why: string): CliError {
  return new CliError(what, why, 2);
}

/** The one line of an error, without the `tessera: ` prefix. */
export function errorLine(e: unknown): { line: string; exitCode: 1 | 2 } {
  if (e instanceof CliError) return { line: e.message, exitCode: e.exitCode };
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'ConfigError') return { line: err.message, exitCode: 2 };
  if (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) return { line: parseArgsLine(err), exitCode: 2 };
  return { line: `${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(e)}`, exitCode: 1 };
}

/** node:util parseArgs errors, said the same way as every other error. */
function parseArgsLine(err: NodeJS.ErrnoException): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  const name = quoted.split(' ')[0];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `${name}: unknown option (tessera --help lists them)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `${name}: unexpected argument`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `${name}: needs a value` : `${name}: takes no value`;
    default: return err.message;
  }
}

/** A name as the user typed it, quoted; control characters escaped. */
export function quote(name: string): string {
  return /[\u0000-\u001f\u007f']/.test(name) ? JSON.stringify(name) : `'${name}'`;
}

/** The version in package.json (from src/cli or dist/cli alike). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const host = hostname();

/**
 * One JSON log line on stdout, in the shape of the server's other lines
 * (pino's: level, time, pid, hostname, msg), for the lines the command line
 * writes itself: the `listening on` line of the supervisor of workers.
 */
export function logLine(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
  const levels = { info: 30, warn: 40, error: 50 };
  process.stdout.write(`${JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, hostname: host, ...fields, msg })}\n`);
}
