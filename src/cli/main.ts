#!/usr/bin/env node
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { backupCommand, BACKUP_USAGE } from './backup.js';
import { errorLine, usage, version } from './output.js';
import { serve } from './serve.js';
import { usersCommand } from './users.js';

const USAGE = `Usage: tessera serve [--config FILE] [--host HOST] [--port PORT] [--store URL] [--workers N]
       tessera users add|passwd|roles|remove|list ...   (tessera users --help)
       tessera backup FILE [--store URL] [--config FILE] (tessera backup --help)
       tessera --version | --help

  serve           run the server (stop it with SIGTERM or Ctrl-C: it drains, then exits 0)
  users           manage the users in the store
  backup          copy a SQLite store to FILE while it serves

  --config FILE   JSON config file (see docs/configuration.md); flags win over it
  --host HOST     address to listen on (default 127.0.0.1)
  --port PORT     port to listen on; 0 picks a free one (default 8080)
  --store URL     sqlite:PATH (default sqlite:./data/tessera.db), memory:,
                  redis://HOST:PORT or redis-cluster://HOST:PORT,HOST:PORT,...
  --workers N     processes sharing the port (default 1; more only on Redis)

Errors are one line, 'tessera: <what>: <why>'; exit code 2 for a usage error, 1 for a failure.
`;

const COMMANDS = ['serve', 'users', 'backup'];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`tessera ${version()}\n`);
    return 0;
  }
  if (command === 'users') return usersCommand(rest);
  if (command === 'backup') {
    if (rest.includes('--help') || rest.includes('-h')) return help(BACKUP_USAGE);
    return backupCommand(rest);
  }
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, store: { type: 'string' }, workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) return help(USAGE);
    await serve(values);
    return -1; // keeps running
  }
  throw usage(command, command.startsWith('-') ? 'unknown option (tessera --help lists them)'
    : `unknown command (one of ${COMMANDS.join(', ')}; tessera --help)`);
}

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (e: unknown) => {
  const { line, exitCode } = errorLine(e);
  // A worker of `serve --workers N` leaves the saying to the first process: one line, not one per worker.
  if (cluster.isWorker) process.send!({ tessera: 'failed', line }, () => process.exit(exitCode));
  else {
    process.stderr.write(`tessera: ${line}\n`);
    process.exit(exitCode);
  }
});
