/**
 * tessera/client against a real server on a socket: the key kept by the
 * client, one request at a time, retries after a lost answer within the
 * grace window, errors typed by code, and the generated types kept equal to
 * the served OpenAPI document.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { generateClientTypes, TYPES_FILE } from '../scripts/gen-client.js';
import { TesseraClient, TesseraClientError } from '../src/client/index.js';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';

const TOKEN = 'site-token-0123456789abcdef';
const ADMIN = 'ops-token-0123456789abcdef';
let tessera: Tessera;
let app: FastifyInstance;
let url: string;

before(async () => {
  tessera = new Tessera({
    store: createMemoryStore(),
    config: { clients: [{ id: 'site', token: TOKEN, roles: ['app'] }, { id: 'ops', token: ADMIN, roles: ['admin'] }],
      users: [{ name: 'alice', password: 'alice-password', roles: ['customer'] }] },
  });
  app = buildServer(tessera);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app.close();
  await tessera.close();
});

test('the generated types equal what `npm run gen:client` makes from the served /openapi.json', async () => {
  const fresh = await generateClientTypes();
  assert.ok(fresh === readFileSync(TYPES_FILE, 'utf8'), 'src/client/openapi.d.ts has drifted from the served OpenAPI document: run `npm run gen:client`');
});

test('the client keeps the current key: every answer replaces it, and requests fired together never replay one', async () => {
  const client = new TesseraClient({ url, token: TOKEN });
  const session = await client.createSession();
  const keys = [session.key];
  const changes: string[] = [];
  const s = client.session(session.credentials, { onCredentials: (c) => changes.push(c.key) });
  // Twenty requests at once: the client queues them, each presents the key the previous answer gave.
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => s.putRecord('n', i)));
  assert.deepEqual(answers.map((a) => a.version), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(changes.length, 20);
  assert.equal(new Set([...keys, ...changes]).size, 21, 'a new key on every answer (per-request rotation)');
  assert.equal((await s.getRecord('n') as { value: unknown }).value, 19);
});

test('errors are typed by code; a 409 carries the next key, which the client takes', async () => {
  const client = new TesseraClient({ url, token: TOKEN });
  const a = await client.createSession();
  const b = await client.createSession();
  await a.hold({ resources: ['seat:C1:A1'] });
  const before = b.key;
  await assert.rejects(b.hold({ resources: ['seat:C1:A1', 'seat:C1:A2'] }), (e: unknown) => {
    assert.ok(e instanceof TesseraClientError);
    assert.equal(e.code, 'HOLD_CONFLICT');
    assert.equal(e.status, 409);
    assert.deepEqual(e.details?.conflicts, ['seat:C1:A1']);
    return true;
  });
  assert.notEqual(b.key, before);
  assert.equal((await b.get()).id, b.id, 'the session still works with the key the 409 carried');
  await assert.rejects(new TesseraClient({ url, token: 'wrong-token-0123456789' }).createSession(), { code: 'CLIENT_UNAUTHORIZED', status: 401 });
});

test('a lost answer is sent again with the same key, inside the grace window, and the session survives', async () => {
  let drop = 0;
  const lossy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (drop > 0) {
      drop--;
      await res.arrayBuffer();
      throw new TypeError('fetch failed (the answer was lost)');
    }
    return res;
  };
  const client = new TesseraClient({ url, token: TOKEN, fetch: lossy });
  const s = await client.createSession();
  drop = 1; // the server served and rotated; the client never saw the new key
  const r = await s.putRecord('cart', { seats: 1 });
  assert.equal(r.version, 2, 'served twice: the retry with the replaced key is accepted within the grace window');
  assert.equal((await s.get()).id, s.id, 'and the key it carried back is current');
  drop = 1;
  await assert.rejects(s.login({ username: 'alice', password: 'alice-password' }), { code: 'NETWORK_ERROR' },
    'a login is never sent again: its old key has no grace');
});

test('transfer: the handle takes the new id and key; admin routes with an admin token', async () => {
  const client = new TesseraClient({ url, token: TOKEN });
  const admin = new TesseraClient({ url, token: ADMIN });
  await admin.admin.setPool('ga:C1', 2);
  const s = await client.createSession();
  await s.hold({ pool: 'ga:C1', quantity: 2 });
  await assert.rejects(s.hold({ pool: 'ga:C1', quantity: 1 }), { code: 'POOL_EXHAUSTED' });
  const old = s.credentials;
  const moved = await s.transfer();
  assert.equal(s.id, moved.id);
  assert.notEqual(s.id, old.id);
  const list = await s.holds();
  assert.equal(list.holds?.[0]?.pool, 'ga:C1');
  await assert.rejects(client.session(old).get(), { code: 'SESSION_INVALID' });
});
