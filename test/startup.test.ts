/**
 * Starting and stopping `tessera serve` as real processes: the store is
 * checked before `listening on` (one line and a non-zero exit when it cannot
 * be used), a store lost while serving is logged once lost and once back,
 * `npm start` stops on SIGTERM and Ctrl-C, and `tessera backup` copies a
 * SQLite store while it serves.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { runCli, startServe } from './helpers/process.js';
import { freePort, startRedis } from './helpers/redis.js';

const dir = tempDir();
after(() => dir.remove());
const run = (args: string[]) => runCli(args, { cwd: dir.path });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('the store is checked before listening on', () => {
  test('a SQLite path whose folder does not exist: one line naming it, exit 1, nothing created', async () => {
    const missing = join(dir.path, 'no', 'such', 'folder');
    const r = await run(['serve', '--port', '0', '--store', `sqlite:${join(missing, 'x.db')}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tessera: store sqlite:${join(missing, 'x.db')}: the folder ${missing} does not exist (create it first)\n`);
    assert.equal(r.stdout, '', 'no banner, no listening line');
    assert.ok(!existsSync(join(dir.path, 'no')), 'the folders were not created');
    const users = await run(['users', 'list', '--store', `sqlite:${join(missing, 'x.db')}`]);
    assert.equal(users.code, 1, 'the users command checks the same way');
  });

  test('a Redis that does not answer: one line naming it and why, exit 1, within a bounded time', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await run(['serve', '--port', '0', '--store', `redis://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tessera: store redis://127.0.0.1:${port}: not answering: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    assert.equal(r.stdout, '');
    assert.ok(Date.now() - started < 15_000, 'bounded (the check waits at most 5 s for an answer)');
  });
});

test('a port in use with --workers 2: one line for all the workers, exit 1', async () => {
  const redis = await startRedis();
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as { port: number };
  try {
    const r = await run(['serve', '--port', String(port), '--workers', '2', '--store', `redis://127.0.0.1:${redis.port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tessera: listen 127.0.0.1:${port}: the address is already in use (another server on that port? --port picks another)\n`);
    assert.equal(r.stdout, '');
  } finally {
    taken.close();
    await redis.stop();
  }
});

test('a store lost while serving is logged once when lost and once when back, with the count of failed requests', async () => {
  const redis = await startRedis();
  const token = 'startup-test-token-0123456789';
  const config = join(dir.path, 'lost.json');
  writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }] }));
  const server = await startServe(['--config', config, '--port', '0', '--store', `redis://127.0.0.1:${redis.port}`], { cwd: dir.path });
  try {
    const create = () => fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await create()).status, 201);
    await redis.kill();
    for (let i = 0; i < 5; i++) assert.equal((await create()).status, 503);
    await sleep(3000); // three sweeps, each failing
    const whileDown = server.stdout().length;
    await redis.restart();
    await until(() => /store back/.test(server.stdout()), 'the store back line');
    assert.equal((await create()).status, 201, 'serves again by itself');
    const lines = server.stdout().trimEnd().split('\n').map((l) => JSON.parse(l));
    const lost = lines.filter((l) => /^store lost/.test(l.msg));
    const back = lines.filter((l) => /^store back/.test(l.msg));
    assert.equal(lost.length, 1, 'lost: one line');
    assert.equal(lost[0].store, `redis://127.0.0.1:${redis.port}`);
    assert.equal(back.length, 1, 'back: one line');
    assert.equal(back[0].failedRequests, 5);
    assert.match(back[0].msg, /5 requests failed meanwhile/);
    assert.ok(!/\n\s+at /.test(server.output()), 'no stack trace');
    assert.ok(whileDown < 2000, `a few lines, not a stack per second (${whileDown} bytes)`);
    assert.equal(server.stderr().trim(), `listening on ${server.url}`, 'nothing on stderr but the listening line');
  } finally {
    await server.stop();
    await redis.stop();
  }
});

test('tessera backup copies a SQLite store while it serves, into a file a server can start on', async () => {
  const token = 'backup-test-token-0123456789';
  const config = join(dir.path, 'backup.json');
  writeFileSync(config, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }] }));
  const db = join(dir.path, 'live.db');
  const copy = join(dir.path, 'copy.db');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const server = await startServe(['--config', config, '--port', '0', '--store', `sqlite:${db}`], { cwd: dir.path });
  let s: { id: string; key: string };
  try {
    s = await (await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers, body: '{"rotation":"on-privilege-change"}' })).json();
    const put = await fetch(`${server.url}/v1/session/records/cart`, {
      method: 'PUT', headers: { ...headers, 'session-id': s.id, 'session-key': s.key }, body: '{"value":{"seats":["A1"]}}',
    });
    assert.equal(put.status, 200);
    const backup = await run(['backup', copy, '--store', `sqlite:${db}`]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^backed up .* to .*copy\.db \(\d+ pages\)\n$/);
    const again = await run(['backup', copy, '--store', `sqlite:${db}`]);
    assert.deepEqual([again.code, again.stderr], [1, `tessera: ${copy}: already exists (backup never overwrites a file)\n`]);
    const redis = await run(['backup', join(dir.path, 'x.db'), '--store', 'redis://127.0.0.1:1']);
    assert.equal(redis.code, 2);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200, 'still serving');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const restored = await startServe(['--config', config, '--port', '0', '--store', `sqlite:${copy}`], { cwd: dir.path });
  try {
    const read = await fetch(`${restored.url}/v1/session/records/cart`, { headers: { ...headers, 'session-id': s.id, 'session-key': s.key } });
    assert.equal(read.status, 200);
    assert.deepEqual((await read.json()).value, { seats: ['A1'] });
  } finally {
    await restored.stop();
  }
});

describe('npm start stops the server on SIGTERM and on Ctrl-C', () => {
  // npm start runs dist/: build it from the sources under test first.
  before(async () => { await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 }); });

  const npmStart = async () => {
    // detached: npm leads a process group of its own, as a shell's foreground job does.
    const npm = spawn('npm', ['start', '--', '--port', '0', '--store', 'memory:'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    npm.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    npm.stdout.resume();
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await until(() => /^listening on /m.test(err), `npm start to listen (${err})`);
    const url = /^listening on (\S+)$/m.exec(err)![1];
    const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=', '--ppid', String(npm.pid)]);
    const children = stdout.trim().split(/\s+/).map(Number);
    return { npm, url, children, exited };
  };
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

  for (const [how, signal] of [['SIGTERM to npm', 'SIGTERM'], ['Ctrl-C (SIGINT to the process group)', 'SIGINT']] as const) {
    test(how, async () => {
      const { npm, url, children, exited } = await npmStart();
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.ok(children.length > 0);
      if (signal === 'SIGTERM') process.kill(npm.pid!, 'SIGTERM');
      else process.kill(-npm.pid!, 'SIGINT');
      await exited;
      await until(() => children.every((pid) => !alive(pid)), 'the server process to end', 10_000);
      await assert.rejects(fetch(`${url}/healthz`), 'the port is closed');
    });
  }
});
