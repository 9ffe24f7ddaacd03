import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, resolveConfig, type TesseraConfig } from '../core/config.js';
import { buildServer } from '../http/server.js';
import { Tessera } from '../service/tessera.js';
import { openStore } from '../store/open.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  store?: string;
  workers?: string;
}

export function isLoopback(host: string): boolean {
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
      throw new ConfigError(`config: cannot read ${flags.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      config = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config: ${flags.config} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError('config: the file must hold a JSON object');
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

/** `tessera serve`: starts the server and runs until SIGTERM or SIGINT. */
export async function serve(flags: ServeFlags): Promise<void> {
  const raw = loadConfig(flags);
  const config = resolveConfig(raw);
  const openMode = config.clients.length === 0;
  if (openMode && !isLoopback(config.listen.host)) {
    throw new ConfigError(`config: clients: none configured, and open mode is allowed only on a loopback address (listen.host is ${config.listen.host})`);
  }
  if (config.listen.workers > 1 && cluster.isPrimary) return supervise(config);
  const store = await openStore(config.store);
  let tessera: Tessera;
  try {
    tessera = new Tessera({ config, store });
  } catch (e) {
    await store.close();
    throw e;
  }
  const level = process.env.TESSERA_LOG_LEVEL ?? 'info';
  const app = buildServer(tessera, {
    logger: { level },
    accessLog: process.env.TESSERA_ACCESS_LOG === '1',
  });
  if (openMode && !cluster.isWorker) {
    app.log.warn('OPEN MODE: no clients are configured, so any local process may create and use sessions without a token. '
      + 'Add "clients" to the config before exposing this server.');
  }
  try {
    // The config's users, hashed, created when absent (with workers, once, by the supervisor).
    if (!cluster.isWorker) await tessera.users.seed();
  } catch (e) {
    await tessera.close();
    throw e;
  }
  tessera.startSweeper((e) => app.log.error({ err: e }, 'expiry sweep failed'));
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  if (cluster.isWorker) process.send!({ tessera: 'listening', port });
  else process.stdout.write(`listening on ${urlOf(config, port)}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'draining');
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
async function supervise(config: Readonly<TesseraConfig>): Promise<void> {
  const seeder = new Tessera({ config, store: await openStore(config.store) });
  try {
    await seeder.users.seed();
  } finally {
    await seeder.close();
  }
  let listening = 0;
  let started = false;
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
    cluster.fork().on('message', (m: { tessera?: string; port?: number }) => {
      if (m?.tessera !== 'listening' || started || ++listening < config.listen.workers) return;
      started = true;
      process.stdout.write(`listening on ${urlOf(config, m.port!)}\n`);
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
