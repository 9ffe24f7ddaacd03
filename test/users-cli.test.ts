import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { runCli, startServe } from './helpers/process.js';

/** `tessera users ...` as a real process on a SQLite file, and `tessera serve` over the same file. */
const dir = tempDir();
after(() => dir.remove());

const token = 'users-cli-token-0123456789';
const store = `sqlite:${join(dir.path, 'users.db')}`;
const configFile = join(dir.path, 'tessera.json');
writeFileSync(configFile, JSON.stringify({
  store, clients: [{ id: 'web', token, roles: ['app'] }],
  users: [{ name: 'seeded', password: 'seeded-password-1', roles: ['staff'] }],
}));

const cli = (args: string[], stdin?: string) => runCli(['users', ...args], { cwd: dir.path, stdin });
const serve = () => startServe(['--config', configFile, '--port', '0'], { cwd: dir.path });

const json = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function newSession(url: string): Promise<{ id: string; key: string }> {
  return (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: json, body: '{}' })).json();
}

async function call(url: string, s: { id: string; key: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method, headers: { ...json, 'session-id': s.id, 'session-key': s.key }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const key = res.headers.get('session-key');
  if (key) s.key = key;
  return { status: res.status, body: await res.json() };
}

test('users add with --password-stdin, then login over HTTP; roles and remove reach a running server', async () => {
  const added = await cli(['add', 'alice', '--role', 'customer', '--role', 'vip', '--password-stdin', '--store', store], 'alice-cli-password\n');
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /added alice/);
  assert.ok(!added.stdout.includes('alice-cli-password') && !added.stderr.includes('alice-cli-password'), 'the password is never echoed');
  const again = await cli(['add', 'alice', '--password-stdin', '--store', store], 'other\n');
  assert.equal(again.code, 1);
  assert.equal(again.stderr, "tessera: user 'alice': already exists (change it with 'tessera users passwd' or 'tessera users roles')\n");

  const server = await serve();
  try {
    const s = await newSession(server.url);
    const res = await call(server.url, s, 'POST', '/v1/session/login', { username: 'alice', password: 'alice-cli-password' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { user: { name: 'alice', roles: ['customer', 'vip'] } });
    const seeded = await call(server.url, await newSession(server.url), 'POST', '/v1/session/login', { username: 'seeded', password: 'seeded-password-1' });
    assert.deepEqual(seeded.body, { user: { name: 'seeded', roles: ['staff'] } }, 'config users are seeded at start');

    const roles = await cli(['roles', 'alice', '--role', 'staff', '--config', configFile]);
    assert.equal(roles.code, 0, roles.stderr);
    const before = s.key;
    const served = await call(server.url, s, 'GET', '/v1/session');
    assert.deepEqual(served.body.user, { name: 'alice', roles: ['staff'] }, 'a role change from another process reaches the session');
    assert.notEqual(s.key, before);

    const list = await cli(['list', '--json', '--store', store]);
    assert.deepEqual(JSON.parse(list.stdout).map((u: { name: string; roles: string[] }) => [u.name, u.roles]), [['alice', ['staff']], ['seeded', ['staff']]]);
    assert.ok(!list.stdout.includes('argon2'), 'no hash is printed');

    const removed = await cli(['remove', 'alice', '--store', store]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /1 session ended/);
    assert.equal((await call(server.url, s, 'GET', '/v1/session')).status, 401);
    assert.ok(!server.output().includes('alice-cli-password'), 'no password in the server log');
  } finally {
    await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
  }
});

test('users refuses bad usage with exit code 2 and a missing user with 1, each in one line', async () => {
  const usage = async (args: string[], stderr: string) => {
    const r = await cli(args);
    assert.deepEqual([r.code, r.stderr], [2, stderr], args.join(' '));
  };
  await usage(['frobnicate', '--store', store], 'tessera: users frobnicate: unknown command (one of add, passwd, roles, remove, list; tessera users --help)\n');
  await usage(['add', '--store', store], 'tessera: users add: needs a user name\n');
  await usage(['add', 'bob', '--store', store], 'tessera: users add: standard input is not a terminal: pipe the password with --password-stdin\n');
  await usage(['list', '--store', 'memory:'], 'tessera: --store: memory: lives inside one process; name a shared store (sqlite:PATH or redis://HOST:PORT)\n');
  await usage(['list', '--frob', '--store', store], 'tessera: --frob: unknown option (tessera --help lists them)\n');
  const help = await cli([]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: tessera users/);
  // The same not-found line from every command that names a user.
  for (const args of [['passwd', 'nobody', '--password-stdin'], ['remove', 'nobody'], ['roles', 'nobody'], ['roles', 'nobody', '--role', 'x']]) {
    const missing = await cli([...args, '--store', store], 'pw\n');
    assert.deepEqual([missing.code, missing.stderr], [1, "tessera: user 'nobody': no such user ('tessera users list' lists them)\n"], args.join(' '));
  }
  const bad = await cli(['add', 'a\u0007b', '--password-stdin', '--store', store], 'x\n');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^tessera: user "a\\u0007b": .*\(INVALID_REQUEST\)\n$/);
});

test('users list says when there are no users, and every listing takes --json', async () => {
  const empty = `sqlite:${join(dir.path, 'empty.db')}`;
  const list = await cli(['list', '--store', empty]);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, '', "no users (add one with 'tessera users add NAME')\n"]);
  assert.equal((await cli(['list', '--json', '--store', empty])).stdout, '[]\n');
  assert.equal((await cli(['add', 'carol', '--password-stdin', '--store', empty], 'carol-password\n')).code, 0);
  const none = await cli(['roles', 'carol', '--store', empty]);
  assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'carol has no roles\n']);
  assert.equal((await cli(['roles', 'carol', '--json', '--store', empty])).stdout, '[]\n');
  await cli(['roles', 'carol', '--role', 'a', '--role', 'b', '--store', empty]);
  assert.equal((await cli(['roles', 'carol', '--json', '--store', empty])).stdout, '["a","b"]\n');
  assert.equal((await cli(['list', '--store', empty])).stdout, 'carol\ta,b\n');
});
