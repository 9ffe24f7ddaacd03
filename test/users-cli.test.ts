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
  assert.match(again.stderr, /already exists/);

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

test('users refuses bad usage with exit code 2 and a missing user with 1', async () => {
  assert.equal((await cli(['frobnicate', '--store', store])).code, 2);
  assert.equal((await cli(['add', '--store', store])).code, 2);
  assert.equal((await cli(['add', 'bob', '--store', store])).code, 2, 'no terminal and no --password-stdin');
  assert.equal((await cli(['list', '--store', 'memory:'])).code, 2);
  const missing = await cli(['remove', 'nobody', '--store', store]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /USER_NOT_FOUND/);
  const bad = await cli(['add', 'a\u0007b', '--password-stdin', '--store', store], 'x\n');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_REQUEST/);
});
