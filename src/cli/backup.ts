import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { resolveConfig } from '../core/config.js';
import { CliError, usage } from './output.js';
import { loadConfig } from './serve.js';

export const BACKUP_USAGE = `Usage: tessera backup FILE [--store sqlite:PATH] [--config FILE]

  Copies the SQLite store (named by --store or --config as for serve; default
  sqlite:./data/tessera.db) to FILE, a new file, with SQLite's online backup
  API: the server may keep serving meanwhile. The copy is one consistent
  moment of the store, open transactions and all; start a server on it with
  --store sqlite:FILE. Redis has its own persistence (RDB, AOF).
`;

/** `tessera backup FILE`: a consistent copy of a SQLite store, taken while it serves. */
export async function backupCommand(args: string[], io: { stdout: NodeJS.WritableStream } = process): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { store: { type: 'string' }, config: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const [dest, ...extra] = positionals;
  if (dest === undefined) throw usage('backup', 'needs the FILE to write (tessera backup --help)');
  if (extra.length > 0) throw usage(extra[0], 'unexpected argument');
  const config = resolveConfig(loadConfig({ config: values.config, store: values.store }));
  if (!config.store.startsWith('sqlite:')) {
    throw usage(`store ${config.store}`, 'backup copies a SQLite store; Redis has its own persistence (RDB, AOF), and memory: nothing to copy');
  }
  const source = config.store.slice('sqlite:'.length).split('?')[0];
  if (!existsSync(source)) throw new CliError(`store ${config.store}`, 'no such file');
  if (existsSync(dest)) throw new CliError(dest, 'already exists (backup never overwrites a file)');
  if (!existsSync(dirname(resolve(dest)))) throw new CliError(dest, `the folder ${dirname(resolve(dest))} does not exist`);
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // After the first step (which counts the pages), the rest in one step: one read transaction,
    // so the copy is one moment of the store even while the server writes (WAL lets it).
    const { totalPages } = await db.backup(dest, { progress: () => 0x7fffffff });
    io.stdout.write(`backed up ${source} to ${dest} (${totalPages} pages)\n`);
  } finally {
    db.close();
  }
  return 0;
}
