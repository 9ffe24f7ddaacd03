/**
 * Redis servers for tests: each started here, on a free loopback port, in
 * its own temp dir, with no persistence (`--save '' --appendonly no`), and
 * stopped here (at the latest when the test process exits). Tests never use
 * or flush a Redis they did not start (never 6379).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free port whose +10000 (a Cluster node's bus port) is free too, both below Linux's ephemeral
 * range (32768-60999): a Redis killed and started again must find its port still free, and a port
 * in that range may meanwhile be taken as the local end of any outgoing connection (a client's
 * reconnection attempt to that very port included: TCP self-connect).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10000 + Math.floor(Math.random() * 12768);
    if (await portFree(port) && await portFree(port + 10000)) return port;
  }
}

/** Sends one inline command; the first line of the answer, or null when nothing answers. */
export function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = new Socket();
    let data = '';
    const done = (v: string | null) => { sock.destroy(); resolve(v); };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.once('error', () => done(null));
    sock.connect(port, '127.0.0.1', () => sock.write(`${command}\r\n`));
    sock.on('data', (d) => {
      data += d.toString();
      const nl = data.indexOf('\r\n');
      if (nl < 0) return;
      if (data[0] !== '$') return done(data.slice(0, nl));
      const len = Number(data.slice(1, nl));
      if (len < 0) done('');
      else if (data.length >= nl + 2 + len) done(data.slice(nl + 2, nl + 2 + len));
    });
  });
}

/** Waits until `check` holds; past `timeoutMs`, an error with the end of the server's `log` if given. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const tail = log && existsSync(log) ? `; its log ends:\n${readFileSync(log, 'utf8').split('\n').slice(-10).join('\n')}` : '';
  throw new Error(`redis test helper: timed out waiting for ${what}${tail}`);
}

export interface RedisNode {
  port: number;
  process: ChildProcess;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function startNode(extra: string[] = [], port?: number): Promise<RedisNode> {
  const p = port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  dirs.add(dir);
  const log = join(dir, 'redis.log');
  const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', log, ...extra];
  const started = () => waitFor(async () => (await redisCommand(p, 'PING')) === '+PONG', `redis on ${p}`, 15_000, log);
  const node: RedisNode = {
    port: p,
    process: null as unknown as ChildProcess,
    async kill() {
      const c = node.process;
      if (c.exitCode !== null || c.signalCode !== null) return;
      c.ref(); // keep the process alive until it is gone
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
      children.delete(c);
    },
    async restart() {
      await node.kill();
      launch();
      await started();
    },
    async stop() {
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  const launch = () => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    c.unref(); // the test process may end while it runs: the exit handler above stops it
    children.add(c);
    node.process = c;
  };
  launch();
  await started();
  return node;
}

/** A standalone redis-server; `extra` arguments override the defaults (`--appendonly yes --appendfsync always`, `--replicaof H P`). */
export function startRedis(extra: string[] = []): Promise<RedisNode> {
  return startNode(extra);
}

export interface RedisClusterHandle {
  nodes: RedisNode[];
  /** HOST:PORT,HOST:PORT,... for redis-cluster:// */
  seeds: string;
  /** SIGKILL of every node at once, as a crash of the whole Cluster. */
  kill(): Promise<void>;
  /** Every node started again (same ports, dirs, nodes.conf); resolves once each reports cluster_state:ok. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Cluster of `masters` masters (and `replicas` replicas each), made with redis-cli --cluster create;
 * `extra` arguments for every node (`--appendonly yes --appendfsync always`). A node restarted keeps
 * its dir, so its nodes.conf: killed and restarted together, the nodes form the same Cluster again.
 */
export async function startCluster(masters = 3, replicas = 0, extra: string[] = []): Promise<RedisClusterHandle> {
  const flags = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
    '--repl-diskless-sync-delay', '0', ...extra];
  const nodes = await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => startNode(flags)));
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
  const clusterOk = () => waitFor(async () => {
    const states = await Promise.all(nodes.map((n) => redisCommand(n.port, 'CLUSTER INFO')));
    return states.every((s) => s !== null && s.includes('cluster_state:ok'));
  }, 'cluster_state:ok', 30_000);
  await clusterOk();
  // A replica that never synced cannot take over: wait for every link.
  await waitFor(async () => {
    const infos = await Promise.all(nodes.map((n) => redisCommand(n.port, 'INFO replication')));
    return infos.every((i) => i !== null && (i.includes('role:master') || i.includes('master_link_status:up')));
  }, 'replicas in sync', 30_000);
  return {
    nodes,
    seeds: addrs.join(','),
    async kill() { await Promise.all(nodes.map((n) => n.kill())); },
    async restart() {
      await Promise.all(nodes.map((n) => n.restart()));
      await clusterOk();
    },
    async stop() { await Promise.all(nodes.map((n) => n.stop())); },
  };
}

/** One server per test process, started on first use (the conformance suite shares it, with a key prefix per test). */
let shared: Promise<RedisNode> | null = null;
let sharedCluster: Promise<RedisClusterHandle> | null = null;
export const sharedRedis = () => (shared ??= startRedis());
export const sharedRedisCluster = () => (sharedCluster ??= startCluster());

let prefixes = 0;
/** A key prefix no other test of this process uses. */
export function testPrefix(): string {
  return `t${process.pid}.${++prefixes}`;
}
