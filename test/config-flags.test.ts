/** Flags win over the config file: the same keys given both ways, the flag's value is the one used. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from './helpers/harness.js';
import { startServe } from './helpers/process.js';

const dir = tempDir();
after(() => dir.remove());

test('--port and --store win over listen.port and store in the config file', async () => {
  // The config's port is taken by someone else: if the file won, the start would fail.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  const token = 'flags-test-token-0123456789';
  const configFile = join(dir.path, 'tessera.json');
  const fromFile = join(dir.path, 'from-file.db');
  const fromFlag = join(dir.path, 'from-flag.db');
  writeFileSync(configFile, JSON.stringify({
    listen: { host: '127.0.0.1', port: taken },
    store: `sqlite:${fromFile}`,
    clients: [{ id: 'web', token, roles: ['app'] }],
  }));
  const server = await startServe(['--config', configFile, '--port', '0', '--store', `sqlite:${fromFlag}`],
    { cwd: dir.path, env: { ...process.env, TESSERA_LOG_LEVEL: 'error' } });
  try {
    assert.notEqual(new URL(server.url).port, String(taken), 'listening on the port the flag asked for');
    const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 201, 'the clients of the file still apply');
    assert.ok(existsSync(fromFlag), 'the store named by --store is the one in use');
    assert.ok(!existsSync(fromFile), 'the store named by the file was never opened');
  } finally {
    await server.stop();
    squatter.close();
  }
});
