// Shared by the small servers under test. Each one runs in its own process,
// listens on 127.0.0.1 only, on a port the OS picks, and announces itself with
// the same line as `tessera serve`, so one launcher handles every system.
import type { Server } from 'node:http';

export const LOOPBACK = '127.0.0.1';

/** Print the ready line for the parent, and exit when the parent goes away. */
export function announce(server: Server, shutdown: () => Promise<void>): void {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  process.stdout.write(`listening on http://${address.address}:${address.port}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections?.();
    // A stuck shutdown must not outlive the parent for long.
    setTimeout(() => process.exit(0), 2000).unref();
    shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; when it dies, stdin ends and we follow.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** The only URL a server under test may use to reach its own redis-server. */
export function redisUrlFromEnv(): string {
  const url = new URL(requiredEnv('BENCH_REDIS_URL'));
  if (url.hostname !== LOOPBACK || url.port === '6379' || url.port === '') {
    throw new Error(`refusing redis at ${url.host}: the bench only uses the redis-server it started on loopback`);
  }
  return url.toString();
}
