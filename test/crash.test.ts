/**
 * A crash never leaves half a commit (section 6). A real `tessera serve` on
 * SQLite runs a loop of transactions, each writing the same sequence number
 * into two records and committing; the process is killed with SIGKILL in the
 * middle of the loop, then started again on the same file. Every
 * acknowledged commit must be there, and no half of one: both records carry
 * the same number, at least the last acknowledged one. The transaction that
 * was open when the process died is still open after the restart (scopes
 * live in the file); it is rolled back before the check.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { startServe } from './helpers/process.js';

const ROUNDS = 3;
const dir = tempDir();
after(() => dir.remove());

const token = 'crash-test-token-0123456789';
const configFile = join(dir.path, 'tessera.json');
writeFileSync(configFile, JSON.stringify({ clients: [{ id: 'web', token, roles: ['app'] }] }));
const db = join(dir.path, 'crash.db');

const start = () => startServe(['--config', configFile, '--port', '0', '--store', `sqlite:${db}`],
  { cwd: dir.path, env: { ...process.env, TESSERA_LOG_LEVEL: 'error' } });

test('SIGKILL in the middle of a loop of commits on SQLite: every acknowledged commit is there after a restart, and no half commit', async (t) => {
  let session: { id: string; key: string } | null = null;
  let acked = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const server = await start();
    const headers = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'session-id': session!.id, 'session-key': session!.key });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
    if (!session) {
      const res = await fetch(`${server.url}/v1/sessions`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rotation: 'on-privilege-change', idleTimeout: 3600 }),
      });
      session = await res.json();
    } else {
      // After the restart: the transaction open at the kill (if any) is still there; roll it back, then check.
      const depth = (await call('GET', '/v1/session')).body.transactionDepth;
      const inScope = depth > 0 ? (await call('GET', '/v1/session/records/a')).body.value : null;
      if (depth > 0) assert.equal((await call('POST', '/v1/session/transactions/rollback?all=true')).body.depth, 0);
      const a = (await call('GET', '/v1/session/records/a')).body.value;
      const b = (await call('GET', '/v1/session/records/b')).body.value;
      t.diagnostic(`round ${round - 1}: ${acked} commits acknowledged before the kill; after the restart a = ${a}, b = ${b} (open scopes found: ${depth}${depth > 0 ? `, in which a = ${inScope}` : ''})`);
      assert.equal(a, b, 'no half commit');
      assert.ok(a >= acked, `every acknowledged commit is there (${a} >= ${acked})`);
      assert.ok(a <= acked + 1, 'at most the one in flight beyond them');
      acked = a;
    }
    // The loop, and a kill at a random moment in it. Only the test's own SIGKILL may end the process:
    // a server that dies by itself, or answers something that is not JSON, fails the test (and never hangs it).
    const killAfter = 300 + Math.floor(Math.random() * 500);
    let killedByTest = false;
    const killer = setTimeout(() => {
      killedByTest = true;
      server.child.kill('SIGKILL');
    }, killAfter);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      server.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    try {
      for (let n = acked + 1; ; n++) {
        assert.equal((await call('POST', '/v1/session/transactions')).status, 200);
        assert.equal((await call('PUT', '/v1/session/records/a', { value: n })).status, 200);
        assert.equal((await call('PUT', '/v1/session/records/b', { value: n })).status, 200);
        const res = await call('POST', '/v1/session/transactions/commit');
        assert.equal(res.status, 200);
        assert.equal(res.body.depth, 0);
        acked = n;
      }
    } catch (e) {
      if (!killedByTest) {
        clearTimeout(killer);
        server.child.kill('SIGKILL');
        await exited;
        throw new Error(`the loop failed before the test killed the server: ${(e as Error).message}`, { cause: e });
      }
      if (e instanceof assert.AssertionError) throw e;
      // fetch failed after the kill: the process is gone.
    } finally {
      clearTimeout(killer);
    }
    const exit = await exited;
    assert.equal(exit.signal, 'SIGKILL', `the server died of the test's SIGKILL (exit code ${exit.code}, signal ${exit.signal})`);
    assert.ok(acked > 0, 'some commits were acknowledged before the kill');
  }
  const last = await start();
  const h = { authorization: `Bearer ${token}`, 'session-id': session!.id, 'session-key': session!.key };
  const depth = (await (await fetch(`${last.url}/v1/session`, { headers: h })).json()).transactionDepth;
  if (depth > 0) await fetch(`${last.url}/v1/session/transactions/rollback?all=true`, { method: 'POST', headers: h });
  const a = (await (await fetch(`${last.url}/v1/session/records/a`, { headers: h })).json()).value;
  const b = (await (await fetch(`${last.url}/v1/session/records/b`, { headers: h })).json()).value;
  t.diagnostic(`round ${ROUNDS}: ${acked} commits acknowledged before the kill; after the restart a = ${a}, b = ${b} (open scopes found: ${depth})`);
  assert.equal(a, b);
  assert.ok(a >= acked && a <= acked + 1);
  last.child.kill('SIGTERM');
  await new Promise((resolve) => last.child.once('exit', resolve));
});
