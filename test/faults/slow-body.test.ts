/**
 * Fault suite: the slow-body attack (issue 19, item 2). Knowing only a
 * session id, a caller sends a request head with the victim's Session-Id,
 * any key and `Content-Length: 100`, then no body. The request takes the
 * session's turn only once it has arrived whole, so the victim's next
 * request is served at once (a functional bound: within a second), with
 * `queue: true` and `queue: false`; the attacker's connection is answered
 * 408 REQUEST_TIMEOUT and closed once http.requestTimeout has passed, and a
 * head that never ends is closed after http.headersTimeout.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/harness.js';
import { http, startServe, stopServe, type Node } from '../helpers/serve.js';

const token = 'slow-body-test-token-0123456789';
const dir = tempDir();
const config = join(dir.path, 'tessera.json');
writeFileSync(config, JSON.stringify({
  clients: [{ id: 'web', token, roles: ['app'] }],
  http: { headersTimeout: 2, requestTimeout: 3 },
}));

/** Opens a raw connection and writes `text`; collects what comes back until the server closes it. */
function raw(url: string, text: string): { socket: Socket; answer: Promise<{ text: string; ms: number }> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const started = performance.now();
  let received = '';
  socket.on('data', (c) => { received += c.toString(); });
  socket.write(text);
  const answer = new Promise<{ text: string; ms: number }>((resolve) => {
    socket.on('close', () => resolve({ text: received, ms: performance.now() - started }));
    socket.on('error', () => { /* closed by the server */ });
  });
  return { socket, answer };
}

function attackHead(url: string, id: string, path = '/v1/session/records/r'): string {
  return `PUT ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nAuthorization: Bearer ${token}\r\n`
    + `Session-Id: ${id}\r\nSession-Key: anything\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
}

describe('faults: the slow-body attack', () => {
  let node: Node;
  before(async () => { node = await startServe(['--config', config, '--port', '0', '--store', 'memory:'], dir.path); });
  after(async () => { await stopServe(node); dir.remove(); });

  for (const queue of [true, false]) {
    it(`the victim's next request is served within a second (queue: ${queue}); the attacker gets 408 and is closed`, async (t) => {
      const created = await http(node.url, 'POST', '/v1/sessions', { token, body: { rotation: 'on-privilege-change', queue } });
      assert.equal(created.status, 201);
      const { id, key } = created.body;
      const attackers = Array.from({ length: 5 }, () => raw(node.url, attackHead(node.url, id)));
      await new Promise((r) => setTimeout(r, 300)); // the heads have arrived
      const served: number[] = [];
      for (let i = 0; i < 5; i++) {
        const a = await http(node.url, 'PUT', '/v1/session/records/r', { token, body: { value: i }, headers: { 'session-id': id, 'session-key': key } });
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(a.body.version, i + 1);
        served.push(Math.round(a.ms));
        assert.ok(a.ms < 1000, `served in ${a.ms} ms`);
      }
      const answers = await Promise.all(attackers.map((x) => x.answer));
      for (const a of answers) {
        assert.match(a.text, /^HTTP\/1\.1 408/, a.text);
        assert.match(a.text, /"REQUEST_TIMEOUT"/);
      }
      const check = await http(node.url, 'GET', '/v1/session', { token, headers: { 'session-id': id, 'session-key': key } });
      assert.equal(check.status, 200, 'the session was never touched by the attacker (no replay, no revocation)');
      t.diagnostic(`queue=${queue}: 5 attackers held 0 turns; victim served 5/5, times ms ${served.join(',')}; `
        + `attackers closed with 408 after ${answers.map((a) => Math.round(a.ms)).join(',')} ms; revoked 0`);
    });
  }

  it('a head that never ends is closed after http.headersTimeout', async (t) => {
    const { answer } = raw(node.url, `GET /v1/session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`);
    const a = await answer;
    assert.match(a.text, /^HTTP\/1\.1 408/, a.text);
    t.diagnostic(`endless head closed after ${Math.round(a.ms)} ms with 408`);
  });

  it('requests that arrive whole keep their order', async (t) => {
    const created = await http(node.url, 'POST', '/v1/sessions', { token, body: { rotation: 'on-privilege-change' } });
    const { id, key } = created.body;
    const n = 30;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
      http(node.url, 'PUT', '/v1/session/records/c', { token, body: { value: i }, headers: { 'session-id': id, 'session-key': key } })));
    assert.deepEqual(answers.map((a) => a.status), Array(n).fill(200));
    const versions = answers.map((a) => a.body.version).sort((x, y) => x - y);
    assert.deepEqual(versions, Array.from({ length: n }, (_, i) => i + 1), 'no write lost');
    t.diagnostic(`${n} concurrent writes: ${n} acknowledged, 0 lost`);
  });
});
