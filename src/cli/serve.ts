import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, resolveConfig } from '../config.js';
import { buildServer } from '../http/server.js';
import { Tessera } from '../service.js';
import { openStore } from '../store/open.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  store?: string;
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
  if (openMode) {
    app.log.warn('OPEN MODE: no clients are configured, so any local process may create and use sessions without a token. '
      + 'Add "clients" to the config before exposing this server.');
  }
  try {
    await tessera.users.seed(); // the config's users, hashed, created when absent
  } catch (e) {
    await tessera.close();
    throw e;
  }
  tessera.startSweeper((e) => app.log.error({ err: e }, 'expiry sweep failed'));
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  process.stdout.write(`listening on http://${host}:${port}\n`);

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
