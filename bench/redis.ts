// The bench's own redis-server: started on a free loopback port, with no
// persistence, and stopped at the end. It never touches a redis it did not
// start (in particular not the one on 6379).
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopChild, Tail } from './procs.js';
import type { ChildProcess } from 'node:child_process';

export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function startOnce(parent: string): Promise<RedisServer> {
  let port = await freeLoopbackPort();
  while (port === 6379) port = await freeLoopbackPort();
  // cwd is a scratch directory, so even an unexpected dump could not land in the repo.
  const dir = mkdtempSync(join(parent, 'redis-'));
  const child = spawnTracked(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = new Tail();
  child.stdout!.on('data', (c: Buffer) => output.push(c));
  child.stderr!.on('data', (c: Buffer) => output.push(c));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const failure = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`redis-server could not start: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited (code ${code}): ${output.toString().split('\n').slice(-3).join(' ')}`)));
  });
  failure.catch(() => {});
  const deadline = Date.now() + 10_000;
  try {
    while (!(await Promise.race([ping(port), failure]))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stopChild(child, 1000);
    cleanup();
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    child,
    async stop() {
      await stopChild(child, 3000);
      cleanup();
    },
  };
}

/**
 * Starts a redis-server whose working directory is made under `parent`;
 * retries if another process took the port meanwhile.
 */
export async function startRedis(parent: string = tmpdir()): Promise<RedisServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(parent);
    } catch (err) {
      last = err;
      if ((err as Error).message.includes('could not start')) break; // not installed: no point retrying
    }
  }
  throw last;
}
