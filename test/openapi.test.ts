import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RouteOptions } from 'fastify';
import { buildServer } from '../src/http/server.js';
import { Tessera } from '../src/service/tessera.js';
import { createMemoryStore } from '../src/store/memory/index.js';
import { send, SessionClient, tempDir, TOKENS, using } from './helpers/harness.js';

const run = promisify(execFile);
const REDOCLY = new URL('../node_modules/.bin/redocly', import.meta.url).pathname;

/** The served document and every route the server has (method and path, as Fastify registered them). */
async function served(): Promise<{ doc: any; routes: { method: string; url: string }[] }> {
  const tessera = new Tessera({ store: createMemoryStore({}) });
  const app = buildServer(tessera);
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  await app.ready();
  try {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    return { doc: res.json(), routes };
  } finally {
    await app.close();
    await tessera.close();
  }
}

describe('the OpenAPI document', () => {
  it('lints clean under Redocly\'s recommended rules: no errors, no warnings', async () => {
    const { doc } = await served();
    const dir = tempDir();
    try {
      const file = join(dir.path, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const { stdout } = await run(REDOCLY, ['lint', '--format=json', '--extends=recommended', file], { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
        .catch((e: { stdout: string }) => ({ stdout: e.stdout }));
      const report = JSON.parse(stdout);
      assert.deepEqual(report.problems.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`), []);
      assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
    } finally {
      dir.remove();
    }
  });

  it('describes every route the server has (HEAD, which Fastify adds for each GET, aside)', async () => {
    const { doc, routes } = await served();
    const described = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(methods)) described.add(`${method.toUpperCase()} ${path}`);
    }
    const missing = routes.filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .filter((r) => !described.has(r));
    assert.deepEqual(missing, []);
    assert.ok(routes.length >= 30, `${routes.length} routes`);
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        assert.ok(op.operationId, `${method} ${path}: operationId`);
        assert.ok(Object.keys(op.responses).some((s) => s.startsWith('4')), `${method} ${path}: a 4xx answer`);
      }
    }
  });

  it('shows the patterns the service checks (defined once, in core)', async () => {
    const { doc } = await served();
    const name = doc.paths['/v1/session/records/{name}'].put.parameters.find((p: { name: string }) => p.name === 'name');
    assert.equal(name.schema.pattern, '^[A-Za-z0-9_.:-]{1,128}$');
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.license.identifier, 'MIT');
  });
});

describe('validation by the route schemas', () => {
  it('answers INVALID_REQUEST naming the field, without coercing or dropping anything', () => using('memory', {}, async ({ app }) => {
    const coerced = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: '60' } });
    assert.equal(coerced.status, 400);
    assert.equal(coerced.body.error.code, 'INVALID_REQUEST');
    assert.equal(coerced.body.error.details.field, 'idleTimeout');
    const unknown = await send(app, 'POST', '/v1/sessions', { body: { idleTimeout: 60, colour: 'red' } });
    assert.deepEqual(unknown.body.error, { code: 'INVALID_REQUEST', message: "Unknown property 'colour'.", details: { field: 'colour' } });
    const list = await send(app, 'POST', '/v1/sessions', { body: [1] });
    assert.equal(list.body.error.message, 'The body must be a JSON object.');
    const query = await send(app, 'GET', '/v1/admin/sessions?colour=red', { token: TOKENS.ops });
    assert.deepEqual(query.body.error.details, { field: 'colour' });
    const required = await send(app, 'DELETE', '/v1/admin/sessions', { token: TOKENS.ops });
    assert.equal(required.status, 400);
    assert.deepEqual(required.body.error.details, { field: 'user' });
    assert.equal((await send(app, 'POST', '/v1/sessions', { body: { queue: false } })).status, 201, 'a valid body passes');
    assert.equal((await send(app, 'POST', '/v1/sessions')).status, 201, 'no body is fine where the body is optional');
  }));

  it('checks the credentials before the input, and answers the next key with an input error', () => using('memory', {}, async ({ app }) => {
    const s = await SessionClient.create(app);
    const stranger = await send(app, 'PUT', '/v1/session/records/bad%20name', { body: { value: 1 }, headers: { 'session-id': s.id, 'session-key': 'x'.repeat(43) } });
    assert.equal(stranger.body.error.code, 'SESSION_INVALID');
    const before = s.key;
    const bad = await s.req('PUT', '/v1/session/records/bad%20name', { value: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'name');
    assert.notEqual(bad.headers['session-key'], before, 'the key rotated: the credentials were accepted');
    const version = await s.req('PUT', '/v1/session/records/r', { value: 1 }, { 'if-match': 'soon' });
    assert.equal(version.status, 400);
    assert.equal(version.body.error.details.field, 'If-Match');
    assert.equal((await s.req('PUT', '/v1/session/records/r', { value: 2 }, { 'if-match': '"0"' })).status, 200);
    assert.equal((await s.req('GET', '/v1/session/records/r')).body.value, 2);
  }));
});
