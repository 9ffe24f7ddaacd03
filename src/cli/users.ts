import { parseArgs } from 'node:util';
import { resolveConfig } from '../core/config.js';
import { TesseraError } from '../core/errors.js';
import { Tessera } from '../service/tessera.js';
import { CliError, quote, usage } from './output.js';
import { loadConfig } from './serve.js';
import { openCheckedStore } from './store.js';

const USERS_USAGE = `Usage: tessera users COMMAND [NAME] [options] [--store URL] [--config FILE]

  users add NAME [--role R]... [--password-stdin]   create a user (asks for the password)
  users passwd NAME [--password-stdin]              set a new password (ends the user's sessions)
  users roles NAME [--role R]... [--clear]          set the roles (no option: print them)
  users remove NAME                                 remove a user (ends its sessions)
  users list [--json]                               list users and their roles (name<TAB>roles)
  users roles NAME [--json]                         print a user's roles

  The password is read from the terminal without echo, or with --password-stdin
  from standard input (one trailing newline removed). --store and --config
  name the store as for serve (default sqlite:./data/tessera.db).
`;

/** `tessera users ...`: works on the store directly, as an admin would over HTTP. Answers the exit code. */
export async function usersCommand(args: string[], io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' }, clear: { type: 'boolean' }, json: { type: 'boolean' },
      store: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  const [command, name, ...extra] = positionals;
  if (values.help || command === undefined) {
    io.stdout.write(USERS_USAGE);
    return 0;
  }
  const needsName = ['add', 'passwd', 'roles', 'remove'].includes(command);
  if (!needsName && command !== 'list') throw usage(`users ${command}`, 'unknown command (one of add, passwd, roles, remove, list; tessera users --help)');
  if (needsName && name === undefined) throw usage(`users ${command}`, 'needs a user name');
  if (extra.length > 0 || (!needsName && name !== undefined)) throw usage(extra[0] ?? name, 'unexpected argument');
  if (values.json && command !== 'list' && command !== 'roles') throw usage('--json', `applies to the listings (users list, users roles NAME), not to users ${command}`);

  const config = resolveConfig(loadConfig({ config: values.config, store: values.store }));
  if (config.store.startsWith('memory:')) throw usage('--store', 'memory: lives inside one process; name a shared store (sqlite:PATH or redis://HOST:PORT)');
  // Checked before the store is opened: a password prompt comes before any work.
  if ((command === 'add' || command === 'passwd') && !values['password-stdin'] && !io.stdin.isTTY) {
    throw usage(`users ${command}`, 'standard input is not a terminal: pipe the password with --password-stdin');
  }
  const tessera = new Tessera({ config, store: await openCheckedStore(config.store) });
  const who = `user ${quote(name ?? '')}`;
  try {
    const users = tessera.users;
    switch (command) {
      case 'add': {
        if (await exists(tessera, name)) throw new CliError(who, "already exists (change it with 'tessera users passwd' or 'tessera users roles')");
        const password = await readPassword(io, values['password-stdin'] === true, true);
        const user = await users.put(name, { password, roles: values.role ?? [] });
        io.stdout.write(`added ${user.name} (roles: ${user.roles.join(', ') || 'none'})\n`);
        return 0;
      }
      case 'passwd': {
        if (!(await exists(tessera, name))) throw notFound(name);
        await users.put(name, { password: await readPassword(io, values['password-stdin'] === true, true) });
        io.stdout.write(`password of ${name} changed; its sessions were ended\n`);
        return 0;
      }
      case 'roles': {
        if (values.role === undefined && !values.clear) {
          if (!(await exists(tessera, name))) throw notFound(name);
          const { roles } = await users.get(name);
          if (values.json) io.stdout.write(`${JSON.stringify(roles)}\n`);
          else if (roles.length === 0) io.stderr.write(`${name} has no roles\n`);
          else io.stdout.write(`${roles.join('\n')}\n`);
          return 0;
        }
        if (values.role !== undefined && values.clear) throw usage('--clear', 'give --role or --clear, not both');
        if (!(await exists(tessera, name))) throw notFound(name);
        const user = await users.put(name, { roles: values.role ?? [] });
        io.stdout.write(`roles of ${user.name}: ${user.roles.join(', ') || 'none'} (its sessions take them at their next request)\n`);
        return 0;
      }
      case 'remove': {
        if (!(await exists(tessera, name))) throw notFound(name);
        const { ended } = await users.remove(name);
        io.stdout.write(`removed ${name} (${ended} session${ended === 1 ? '' : 's'} ended)\n`);
        return 0;
      }
      default: {
        const { users: list } = await users.list();
        if (values.json) io.stdout.write(`${JSON.stringify(list)}\n`);
        else if (list.length === 0) io.stderr.write("no users (add one with 'tessera users add NAME')\n");
        else for (const u of list) io.stdout.write(`${u.name}\t${u.roles.join(',')}\n`);
        return 0;
      }
    }
  } catch (e) {
    // A catalogue error (a bad name, say): the same one line, naming the user.
    if (e instanceof TesseraError) throw new CliError(who, `${e.message.replace(/\.$/, '')} (${e.code})`);
    throw e;
  } finally {
    await tessera.close();
  }
}

/** The one not-found message of every users command. */
function notFound(name: string): CliError {
  return new CliError(`user ${quote(name)}`, "no such user ('tessera users list' lists them)");
}

async function exists(tessera: Tessera, name: string): Promise<boolean> {
  try {
    await tessera.users.get(name);
    return true;
  } catch (e) {
    if (e instanceof TesseraError && e.code === 'USER_NOT_FOUND') return false;
    throw e;
  }
}

/** From standard input (--password-stdin), or typed twice at the terminal without echo. */
async function readPassword(io: { stdin: NodeJS.ReadStream; stderr: NodeJS.WritableStream }, fromStdin: boolean, confirm: boolean): Promise<string> {
  if (fromStdin) {
    let text = '';
    for await (const chunk of io.stdin) text += chunk.toString();
    return text.replace(/\r?\n$/, '');
  }
    const first = await prompt(io, 'Password: ');
  if (confirm && (await prompt(io, 'Repeat password: ')) !== first) throw new CliError('password', 'the two passwords typed differ');
  return first;
}

function prompt(io: { stdin: NodeJS.ReadStream; stderr: NodeJS.WritableStream }, question: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new CliError('password', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
