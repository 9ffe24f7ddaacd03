// Child processes: every server under test, every redis-server and the load
// process are started here, remembered, and killed when the bench ends, however
// it ends (done, error, Ctrl-C, watchdog).
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const children = new Set<ChildProcess>();
let reaper: ChildProcess | undefined;

/**
 * Starts bench/reaper.ts, which kills every tracked child if this process dies
 * without cleaning up (see there).
 */
export function startReaper(script: string, cwd: string, scratch: string): void {
  reaper = fork(script, [], { cwd, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  reaper.unref();
  reaper.channel?.unref();
  reaper.send({ dir: scratch });
  for (const child of children) if (child.pid) reaper.send({ add: child.pid });
}

export function stopReaper(): void {
  if (reaper?.connected) reaper.send({ done: true });
  reaper = undefined;
}

function tellReaper(message: { add?: number; remove?: number }): void {
  if (reaper?.connected) reaper.send(message);
}

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  if (child.pid) tellReaper({ add: child.pid });
  child.once('exit', () => {
    children.delete(child);
    if (child.pid) tellReaper({ remove: child.pid });
  });
  return child;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

/** Last resort, synchronous (for process 'exit'). */
export function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Keeps the last `limit` characters written to a stream, for error messages. */
export class Tail {
  private text = '';
  constructor(private readonly limit = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface RunningServer {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  stderr: Tail;
  /** Set when the process exited before we stopped it. */
  died?: string;
}

/**
 * Starts a server process and waits for its one line `listening on http://HOST:PORT`.
 * The server must be on 127.0.0.1: anything else is refused.
 */
export function startServer(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; verbose?: boolean },
): Promise<RunningServer> {
  const child = spawnTracked(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = new Tail();
  const stdout = new Tail();
  return new Promise((resolve, reject) => {
    let buffered = '';
    let ready: RunningServer | undefined;
    const fail = (why: string) => {
      clearTimeout(timer);
      void stopChild(child, 1000);
      const tail = (stderr.toString() || stdout.toString()).split('\n').slice(-6).map((l) => l.trim()).filter(Boolean);
      reject(new Error(`${name} ${why}${tail.length ? `: ${tail.join(' / ')}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no "listening on" line within ${options.timeoutMs ?? 30000} ms`), options.timeoutMs ?? 30000);
    child.on('error', (err) => fail(`could not start: ${err.message}`));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (options.verbose) process.stderr.write(`[${name}] ${chunk}`);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (options.verbose) process.stderr.write(`[${name}] ${chunk}`);
      if (ready) return;
      buffered += chunk.toString();
      // A plain line (the peers), or Tessera's JSON log line whose msg is `listening on URL`.
      const match = /(?:^|"msg":")listening on (http:\/\/[^\s"]+)/m.exec(buffered);
      if (!match) return;
      const url = new URL(match[1]);
      if (url.hostname !== '127.0.0.1') return fail(`listens on ${url.host}; the bench only uses 127.0.0.1`);
      clearTimeout(timer);
      ready = { name, child, pid: child.pid!, url: url.origin, stderr };
      resolve(ready);
    });
    child.once('exit', (code, signal) => {
      const why = `exited (${signal ?? `code ${code}`})`;
      if (ready) ready.died = why;
      else fail(why);
    });
  });
}

/** Peak resident set size of a live process, in KiB (VmHWM), with its live children's (a server with workers), or undefined. */
export function peakRssKiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (!match) return undefined;
    return childPids(pid).reduce((sum, child) => sum + (peakRssKiB(child) ?? 0), Number(match[1]));
  } catch {
    return undefined;
  }
}

/** The live children of a process, from every thread's list (Linux); none elsewhere. */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}
