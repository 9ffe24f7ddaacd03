import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { runCli, startServe, type Serving } from './helpers/process.js';

/** `tessera serve` as a real process, over real sockets. */
const dir = tempDir();
after(() => dir.remove());

const start = (args: string[], cwd = dir.path) => startServe(args, { cwd });
const run = (args: string[]) => runCli(args, { cwd: dir.path });
const stop = (r: Serving) => r.stop();

const token = 'serve-test-token-0123456789';
const configFile = join(dir.path, 'tessera.json');
writeFileSync(configFile, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }] }));

test('serves over HTTP, keeps records in the SQLite file across a restart, and exits 0 on SIGTERM', async () => {
  const db = join(dir.path, 'restart.db');
  const first = await start(['--config', configFile, '--port', '0', '--store', `sqlite:${db}`]);
  assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await (await fetch(`${first.url}/v1/sessions`, { method: 'POST', headers: auth, body: '{}' })).json();
  const put = await fetch(`${first.url}/v1/session/records/cart`, {
    method: 'PUT', headers: { ...auth, 'session-id': created.id, 'session-key': created.key }, body: JSON.stringify({ value: { seats: 2 } }),
  });
  assert.equal(put.status, 200);
  const key = put.headers.get('session-key')!;
  assert.equal(await stop(first), 0);
  assert.ok(!first.output().includes(created.key) && !first.output().includes(key), 'no key in the output');

  const second = await start(['--config', configFile, '--port', '0', '--store', `sqlite:${db}`]);
  const read = await fetch(`${second.url}/v1/session/records/cart`, { headers: { ...auth, 'session-id': created.id, 'session-key': key } });
  assert.equal(read.status, 200);
  assert.deepEqual((await read.json()).value, { seats: 2 });
  assert.equal(await stop(second), 0);
});

test('with no flags serves the embedded default, a SQLite file under ./data/, in loud open mode', async () => {
  const cwd = tempDir();
  let r: Serving | undefined;
  try {
    r = await start(['--port', '0'], cwd.path);
    assert.match(r.output(), /OPEN MODE/);
    const warning = JSON.parse(r.stdout().split('\n')[0]);
    assert.deepEqual([warning.level, /^OPEN MODE/.test(warning.msg)], [40, true], 'a JSON line, the first, before the listening line');
    const res = await fetch(`${r.url}/v1/sessions`, { method: 'POST' });
    assert.equal(res.status, 201, 'open mode needs no token');
    assert.ok(existsSync(join(cwd.path, 'data', 'tessera.db')));
    assert.equal(await stop(r), 0);
  } finally {
    if (r && r.child.exitCode === null) r.child.kill('SIGKILL'); // a failed assertion leaves no server behind
    cwd.remove();
  }
});

test('refuses open mode on a non-loopback address', async () => {
  const r = await run(['serve', '--host', '0.0.0.0', '--port', '0', '--store', 'memory:']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /clients/);
  assert.match(r.stderr, /loopback/);
});

test('stops on a bad config file with a message naming the key at fault', async () => {
  const cases: [unknown, RegExp][] = [
    [{ session: { idleTimeout: 'long' } }, /session\.idleTimeout/],
    [{ session: { idelTimeout: 5 } }, /session\.idelTimeout: unknown key/],
    [{ clients: [{ id: 'a', token: 'short', roles: ['app'] }] }, /clients\.0\.token/],
    [{ records: { r: { kind: 'many' } } }, /records\.r\.kind/],
    [{ listen: { host: 5 } }, /listen\.host/],
    [{ clients: [{ id: 'a', token: 'same-token-0123456789', roles: ['app'] }, { id: 'b', token: 'same-token-0123456789', roles: ['admin'] }] }, /clients\.1\.token/],
    [{ session: { maxIdleTimeout: 60, idleTimeout: 120 } }, /session\.idleTimeout/],
    [{ users: [{ name: 'ann', password: 'x' }, { name: 'ann', password: 'y' }] }, /users\.1\.name: duplicate/],
    [{ users: [{ name: 'a\u0001b', password: 'x' }] }, /users\.0\.name/],
    [{ users: [{ name: 'anonymous', password: 'x' }] }, /users\.0\.name: 'anonymous' is the anonymous user's name/],
    [{ users: [{ name: 'ann' }] }, /users\.0/],
  ];
  for (const [config, pattern] of cases) {
    const file = join(dir.path, 'bad.json');
    writeFileSync(file, JSON.stringify(config));
    const r = await run(['serve', '--config', file, '--port', '0', '--store', 'memory:']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
  writeFileSync(join(dir.path, 'broken.json'), '{ not json');
  const broken = await run(['serve', '--config', join(dir.path, 'broken.json')]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /not valid JSON/);
  const flags = await run(['serve', '--prot', '1']);
  assert.equal(flags.code, 2);
  assert.equal(flags.stderr, 'tessera: --prot: unknown option (tessera --help lists them)\n');
  writeFileSync(join(dir.path, 'enum.json'), JSON.stringify({ clients: [{ id: 'a', token: 'a-token-0123456789abc', roles: ['boss'] }] }));
  const enumError = await run(['serve', '--config', join(dir.path, 'enum.json'), '--store', 'memory:']);
  assert.equal(enumError.stderr, 'tessera: config: clients.0.roles.0: must be one of "app", "admin", "portal"\n', 'an enum error lists the allowed values');
  const missing = await run(['serve', '--config', join(dir.path, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `tessera: config ${join(dir.path, 'nope.json')}: cannot read it: no such file\n`);
});

test('--version, help, and one error style: tessera: <what>: <why>, exit 2 for usage, 1 for a failure', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  for (const flag of ['--version', '-v']) {
    const v = await run([flag]);
    assert.equal(v.code, 0);
    assert.equal(v.stdout, `tessera ${version}\n`);
  }
  const bare = await run([]);
  assert.equal(bare.code, 0, 'tessera alone prints help and exits 0');
  assert.match(bare.stdout, /^Usage: tessera serve/);
  assert.equal(bare.stderr, '');
  assert.equal((await run(['--help'])).stdout, bare.stdout);
  const unknown = await run(['frob']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, '');
  assert.equal(unknown.stderr, 'tessera: frob: unknown command (one of serve, users, backup; tessera --help)\n');
  const noValue = await run(['serve', '--port']);
  assert.deepEqual([noValue.code, noValue.stderr], [2, 'tessera: --port: needs a value\n']);
  const badPort = await run(['serve', '--port', 'http']);
  assert.deepEqual([badPort.code, badPort.stderr], [2, "tessera: --port: 'http' is not a port number (0 to 65535)\n"]);
});

test('every stdout line is JSON, the listening line included; the access log is one line per request, without a key', async () => {
  const r = await startServe(['--config', configFile, '--port', '0', '--store', 'memory:'], { cwd: dir.path, env: { ...process.env, TESSERA_ACCESS_LOG: '1' } });
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await (await fetch(`${r.url}/v1/sessions`, { method: 'POST', headers: auth, body: '{}' })).json();
  const put = await fetch(`${r.url}/v1/session/records/cart?x=1`, {
    method: 'PUT', headers: { ...auth, 'session-id': created.id, 'session-key': created.key }, body: JSON.stringify({ value: 1 }),
  });
  assert.equal(put.status, 200);
  await fetch(`${r.url}/nowhere`);
  // A client that swaps the two headers: the key is in Session-Id (refused, 401), and must not reach the log.
  const swapped = await fetch(`${r.url}/v1/session`, { headers: { ...auth, 'session-id': created.key, 'session-key': created.id } });
  assert.equal(swapped.status, 401);
  assert.equal(await stop(r), 0);
  const stdout = r.stdout();
  const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l)); // throws on a line that is not JSON
  const listening = lines.find((l) => /^listening on /.test(l.msg));
  assert.equal(listening.msg, `listening on ${r.url}`);
  assert.equal(listening.url, r.url);
  assert.match(r.stderr(), new RegExp(`^listening on ${r.url}$`, 'm'), 'and a plain line for people on stderr');
  const access = lines.filter((l) => l.msg === 'request');
  assert.deepEqual(access.map((l) => [l.method, l.route, l.status, l.session]), [
    ['POST', '/v1/sessions', 201, created.id],
    ['PUT', '/v1/session/records/:name', 200, created.id],
    ['GET', '/nowhere', 404, undefined],
    ['GET', '/v1/session', 401, undefined],
  ], 'one line per request: method, route, status, session id (only what has the shape of one)');
  for (const l of access) assert.equal(typeof l.ms, 'number');
  assert.ok(!stdout.includes(created.key) && !stdout.includes(put.headers.get('session-key')!), 'never a key');
  assert.ok(!/Server listening at|incoming request|request completed/.test(stdout), "no Fastify lines of its own");
});

test('a bad TESSERA_LOG_LEVEL or TESSERA_ACCESS_LOG stops the start, naming the allowed values', async () => {
  const env = (extra: Record<string, string>) => runCli(['serve', '--port', '0', '--store', 'memory:'], { cwd: dir.path, env: { ...process.env, ...extra } });
  const level = await env({ TESSERA_LOG_LEVEL: 'loud' });
  assert.deepEqual([level.code, level.stderr], [2, "tessera: TESSERA_LOG_LEVEL: 'loud' is not a level: one of fatal, error, warn, info, debug, trace, silent\n"]);
  const access = await env({ TESSERA_ACCESS_LOG: 'maybe' });
  assert.deepEqual([access.code, access.stderr], [2, "tessera: TESSERA_ACCESS_LOG: 'maybe' is neither on (1, true, yes, on) nor off (0, false, no, off, or unset)\n"]);
});

test('a value outside a list, in a request, names the allowed values', async () => {
  const r = await start(['--config', configFile, '--port', '0', '--store', 'memory:']);
  try {
    const res = await fetch(`${r.url}/v1/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"rotation":"sometimes"}',
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.message, "'rotation' must be one of per-request, on-privilege-change.");
  } finally {
    assert.equal(await stop(r), 0);
  }
});

test('a port in use stops the start with one line, before any banner', async () => {
  const first = await start(['--port', '0', '--store', 'memory:']);
  try {
    const { port } = new URL(first.url);
    const second = await run(['serve', '--port', port, '--store', 'memory:']);
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `tessera: listen 127.0.0.1:${port}: the address is already in use (another server on that port? --port picks another)\n`);
    assert.equal(second.stdout, '', 'no OPEN MODE banner, no listening line');
  } finally {
    assert.equal(await stop(first), 0);
  }
});

test('answers a request that Node.js itself refuses with a catalogue error body', async () => {
  const { connect } = await import('node:net');
  const r = await start(['--config', configFile, '--port', '0', '--store', 'memory:']);
  try {
    const { port } = new URL(r.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      });
      let data = '';
      socket.on('data', (c) => { data += c.toString(); });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => { socket.destroy(); resolve(data); }, 5000);
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.match(answer, /cache-control: no-store/i);
    assert.match(answer, /"code":"INVALID_REQUEST"/);
  } finally {
    assert.equal(await stop(r), 0);
  }
});
