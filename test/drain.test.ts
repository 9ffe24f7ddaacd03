/**
 * Draining (SIGTERM calls the same close): a request already under way is
 * served, one that still arrives on an open keep-alive connection gets
 * `503 SHUTTING_DOWN` with a catalogue body and `Connection: close`.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';
import { CLIENTS, TOKENS } from './helpers/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('serves the request under way and refuses the next one on the connection with SHUTTING_DOWN', async () => {
  const tessera = new Tessera({ config: { clients: CLIENTS }, store: createMemoryStore() });
  const app = buildServer(tessera);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const auth = { authorization: `Bearer ${TOKENS.web}` };
  const created = await (await fetch(`http://127.0.0.1:${port}/v1/sessions`, { method: 'POST', headers: auth })).json() as { id: string; key: string };
  const put = (body: string) => `PUT /v1/session/records/r HTTP/1.1\r\nHost: t\r\nAuthorization: ${auth.authorization}\r\n`
    + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nSession-Id: ${created.id}\r\nSession-Key: ${created.key}\r\n\r\n`;
  const sock = connect(port, '127.0.0.1');
  let data = '';
  sock.setEncoding('utf8').on('data', (d: string) => { data += d; });
  await new Promise((r) => sock.once('connect', r));
  try {
    sock.write(`${put('{"value":1}')}{"value":`); // the first request is under way: its body is not all in
    await sleep(200); // its head has been read and let in
    const closing = app.close();
    await sleep(100); // the close has begun
    sock.write(`1}${put('{"value":2}')}{"value":2}`); // its end, and a second request right behind it
    await new Promise((r) => sock.once('close', r));
    await closing;
    const answers = data.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, data);
    assert.match(answers[0], /^HTTP\/1\.1 200 /);
    assert.match(answers[1], /^HTTP\/1\.1 503 /);
    assert.match(answers[1], /\r\nconnection: close\r\n/i);
    assert.match(answers[1], /\r\ncache-control: no-store\r\n/i);
    const body = JSON.parse(answers[1].slice(answers[1].indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'SHUTTING_DOWN');
    assert.equal(typeof body.error.message, 'string');
  } finally {
    sock.destroy();
    await app.close();
    await tessera.close();
  }
});
