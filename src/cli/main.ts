#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/config.js';
import { serve } from './serve.js';
import { CommandError, UsageError, USERS_USAGE, usersCommand } from './users.js';

const USAGE = `Usage: tessera serve [--config FILE] [--host HOST] [--port PORT] [--store URL] [--workers N]
       tessera users add|passwd|roles|remove|list ... (tessera users --help)

  --config FILE   JSON config file (see docs/configuration.md); flags win over it
  --host HOST     address to listen on (default 127.0.0.1)
  --port PORT     port to listen on; 0 picks a free one (default 8080)
  --store URL     sqlite:PATH (default sqlite:./data/tessera.db), memory:,
                  redis://HOST:PORT or redis-cluster://HOST:PORT,HOST:PORT,...
  --workers N     processes sharing the port (default 1; more only on Redis)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'users') return users(rest);
  if (command !== 'serve') {
    process.stderr.write(`tessera: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, store: { type: 'string' }, workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`tessera: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    await serve(values);
    return -1; // keeps running
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: ${e.message}\n`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`tessera: cannot start: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return 1;
  }
}

async function users(args: string[]): Promise<number> {
  try {
    return await usersCommand(args);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tessera: ${err.message}\n\n${USERS_USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      return 2;
    }
    // Catalogue errors (a bad name, no such user) and store failures: one line, no stack.
    const detail = e instanceof CommandError ? err.message : `${err.code ? `${err.code}: ` : ''}${err.message}`;
    process.stderr.write(`tessera: ${detail}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
});
