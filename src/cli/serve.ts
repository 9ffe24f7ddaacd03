import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, resolveConfig, type TesseraConfig } from '../core/config.js';
import { buildServer } from '../http/server.js';
import { Tessera } from '../service/tessera.js';
import { toTesseraError } from '../http/errors.js';
import { CliError, logLine, usage } from './output.js';
import { openCheckedStore } from './store.js';
import { StoreWatch } from './store-watch.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  store?: string;
  workers?: string;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** Reads the config file and applies the flags over it (flags win). */
export function loadConfig(flags: ServeFlags): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  if (flags.config) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a folder, not a file' : (e as Error).message;
      throw new ConfigError(`config ${flags.config}: cannot read it: ${why}`);
    }
    try {
      config = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config ${flags.config}: not valid JSON: ${(e as Error).message}`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(`config ${flags.config}: the file must hold a JSON object`);
  }
  const listen = { ...(config.listen as object | undefined) } as Record<string, unknown>;
  if (flags.host !== undefined) listen.host = flags.host;
  if (flags.port !== undefined) {
    if (!/^\d{1,5}$/.test(flags.port) || Number(flags.port) > 65535) throw new ConfigError(`--port: '${flags.port}' is not a port number (0 to 65535)`);
    listen.port = Number(flags.port);
  }
  if (flags.workers !== undefined) {
    if (!/^\d{1,2}$/.test(flags.workers) || Number(flags.workers) < 1 || Number(flags.workers) > 64) {
      throw new ConfigError(`--workers: '${flags.workers}' is not a number of processes (1 to 64)`);
    }
    listen.workers = Number(flags.workers);
  }
  const out = { ...config };
  if (Object.keys(listen).length > 0) out.listen = listen;
  if (flags.store !== undefined) out.store = flags.store;
  return out;
}

/**
 * `tessera serve`: starts the server and runs until SIGTERM or SIGINT. In
 * this order, so that a start that cannot succeed says why in one line
 * before anything else: the config, the store (it must answer), the users,
 * the port; then the open-mode warning and the `listening on` line.
 */
export async function serve(flags: ServeFlags): Promise<void> {
  const raw = loadConfig(flags);
  const config = resolveConfig(raw);
  const openMode = config.clients.length === 0;
  if (openMode && !isLoopback(config.listen.host)) {
    throw new ConfigError(`config: clients: none configured, and open mode is allowed only on a loopback address (listen.host is ${config.listen.host})`);
  }
  const { level, accessLog } = logSettings(process.env);
  if (config.listen.workers > 1 && cluster.isPrimary) return supervise(config, openMode);
  const store = await openCheckedStore(config.store);
  let tessera: Tessera;
  try {
    tessera = new Tessera({ config, store });
  } catch (e) {
    await store.close();
    throw e;
  }
  const app = buildServer(tessera, { logger: { level }, accessLog });
  const watch = new StoreWatch(store, config.store, app.log);
  app.addHook('onError', (_request, _reply, err, done) => {
    if (toTesseraError(err).code === 'STORE_UNAVAILABLE') watch.requestFailed(err);
    done();
  });
  const { host, port: wanted } = config.listen;
  try {
    // The config's users, hashed, created when absent (with workers, once, by the supervisor).
    if (!cluster.isWorker) await tessera.users.seed();
    await app.ready();
    // Fastify's own listen would log a line of its own per address; this process says `listening on` once, below.
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen({ host, port: wanted }, () => {
        app.server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await app.close().catch(() => {});
    await tessera.close().catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    const where = `listen ${host.includes(':') ? `[${host}]` : host}:${wanted}`;
    if (code === 'EADDRINUSE') throw new CliError(where, 'the address is already in use (another server on that port? --port picks another)');
    if (code === 'EADDRNOTAVAIL') throw new CliError(where, 'no such address on this machine');
    if (code === 'EACCES') throw new CliError(where, 'permission denied (ports below 1024 need privileges)');
    if (code) throw new CliError(where, `${code}: ${(e as Error).message}`);
    throw e;
  }
  if (openMode && !cluster.isWorker) {
    const warning = 'OPEN MODE: no clients are configured, so any local process may create and use sessions without a token. '
      + 'Add "clients" to the config before exposing this server.';
    // Written as the listening line is (not through the logger, which may buffer): always, and before it.
    logLine('warn', {}, warning);
    if (process.stdout.isTTY) process.stderr.write(`tessera: ${warning}\n`);
  }
  tessera.startSweeper((e) => {
    if (toTesseraError(e).code === 'STORE_UNAVAILABLE') watch.markLost(e);
    else app.log.error({ err: e }, 'expiry sweep failed');
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : wanted;
  if (cluster.isWorker) process.send!({ tessera: 'listening', port });
  else announce(urlOf(config, port));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'draining');
    watch.stop();
    try {
      await app.close();
      await tessera.close();
      process.exit(0);
    } catch (e) {
      app.log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ON = ['1', 'true', 'yes', 'on'];
const OFF = ['', '0', 'false', 'no', 'off'];

/** TESSERA_LOG_LEVEL and TESSERA_ACCESS_LOG, checked like the config: a bad value stops the start, naming the allowed ones. */
function logSettings(env: NodeJS.ProcessEnv): { level: string; accessLog: boolean } {
  const level = env.TESSERA_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level)) throw usage('TESSERA_LOG_LEVEL', `'${level}' is not a level: one of ${LEVELS.join(', ')}`);
  const access = (env.TESSERA_ACCESS_LOG ?? '').toLowerCase();
  if (!ON.includes(access) && !OFF.includes(access)) {
    throw usage('TESSERA_ACCESS_LOG', `'${env.TESSERA_ACCESS_LOG}' is neither on (${ON.join(', ')}) nor off (${OFF.slice(1).join(', ')}, or unset)`);
  }
  return { level, accessLog: ON.includes(access) };
}

/**
 * The `listening on http://HOST:PORT` line: a JSON log line on stdout like
 * every other (with `url`), and the same words as a plain line on stderr for
 * a person at a terminal (or a script that waits for them).
 */
function announce(url: string): void {
  logLine('info', { url }, `listening on ${url}`);
  process.stderr.write(`listening on ${url}\n`);
}

function urlOf(config: Readonly<TesseraConfig>, port: number): string {
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  return `http://${host}:${port}`;
}

/**
 * `listen.workers` > 1: this process seeds the config's users once, then
 * forks the workers, each a whole server on the one shared port (Node's
 * cluster hands out the connections). The Redis store is what they share:
 * sessions, the request queue (a lease per session) and holds work across
 * processes as across nodes. It prints the one `listening on` line once every
 * worker listens, starts a new worker when one dies (giving up after 5 in
 * 10 s), and on SIGTERM or SIGINT has every worker drain, then exits 0. A
 * worker that fails to start stops the others: exit 1.
 */
async function supervise(config: Readonly<TesseraConfig>, openMode: boolean): Promise<void> {
  const seeder = new Tessera({ config, store: await openCheckedStore(config.store) });
  try {
    await seeder.users.seed();
  } finally {
    await seeder.close();
  }
  let listening = 0;
  let started = false;
  let failed = false;
  let stopping = false;
  let code = 0;
  const restarts: number[] = [];
  const workers = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  const stopAll = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    code = exitCode;
    for (const w of workers()) w.process.kill('SIGTERM');
    if (workers().length === 0) process.exit(code);
  };
  const fork = () => {
    cluster.fork().on('message', (m: { tessera?: string; port?: number; line?: string }) => {
      // A worker that cannot start (the port in use, say) tells this process, which says it once for all of them.
      if (m?.tessera === 'failed') {
        if (!failed && !started) process.stderr.write(`tessera: ${m.line}\n`);
        failed = true;
        return;
      }
      if (m?.tessera !== 'listening' || started || ++listening < config.listen.workers) return;
      started = true;
      if (openMode) logLine('warn', {}, 'OPEN MODE: no clients are configured, so any local process may create and use sessions without a token. '
        + 'Add "clients" to the config before exposing this server.');
      announce(urlOf(config, m.port!));
    });
  };
  cluster.on('exit', (worker, exitCode, signal) => {
    if (!stopping && started) {
      const now = Date.now();
      restarts.push(now);
      while (restarts[0] < now - 10_000) restarts.shift();
      process.stderr.write(`tessera: worker ${worker.process.pid} exited (${signal ?? exitCode})`
        + `${restarts.length > 5 ? ': too many in 10 s, stopping' : '; starting another'}\n`);
      if (restarts.length <= 5) return fork();
    }
    stopAll(1); // no-op when already stopping
    if (workers().length === 0) process.exit(code);
  });
  for (let i = 0; i < config.listen.workers; i++) fork();
  process.on('SIGTERM', () => stopAll(0));
  process.on('SIGINT', () => stopAll(0));
}
