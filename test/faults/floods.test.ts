/**
 * Fault suite: floods and password spraying (issue 19, items 3 and 5).
 * Real `tessera serve` processes. Session creation floods and request floods
 * get 429 RATE_LIMITED with Retry-After; spraying (a new session and a new
 * username per attempt) gets 429 LOGIN_THROTTLED after
 * login.sourceMaxFailures; a stranger failing for a user from another address
 * does not lock that user out; the per-username curve still stops a guess
 * spread over addresses; on Redis two nodes count the same requests; the
 * attempted usernames are nowhere in the SQLite file in clear.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/harness.js';
import { startRedis } from '../helpers/redis.js';
import { http, startServe, stopServe, type HttpAnswer } from '../helpers/serve.js';

const token = 'floods-test-token-0123456789';
const dir = tempDir();
after(() => dir.remove());

function configFile(name: string, extra: Record<string, unknown>): string {
  const path = join(dir.path, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    clients: [{ id: 'web', token, roles: ['app', 'admin'] }],
    users: [{ name: 'alice', password: 'correct horse battery', roles: ['customer'] }],
    http: { trustProxy: ['127.0.0.1'] },
    ...extra,
  }));
  return path;
}

const tally = (answers: HttpAnswer[]) => {
  const t = new Map<string, number>();
  for (const a of answers) {
    const k = `${a.status}${a.body?.error?.code ? ` ${a.body.error.code}` : ''}`;
    t.set(k, (t.get(k) ?? 0) + 1);
  }
  return [...t.entries()].sort().map(([k, n]) => `${n}x${k}`).join(', ');
};

function assertLimited(a: HttpAnswer, code: string): void {
  assert.equal(a.status, 429, JSON.stringify(a.body));
  assert.equal(a.body.error.code, code);
  const retry = Number(a.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${a.headers.get('retry-after')}`);
}

const from = (address: string) => ({ 'x-forwarded-for': address });

async function newSession(url: string, address: string) {
  const c = await http(url, 'POST', '/v1/sessions', { token, body: {}, headers: from(address) });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  return { 'session-id': c.body.id as string, 'session-key': c.body.key as string };
}

async function login(url: string, address: string, username: string, password: string) {
  const s = await newSession(url, address);
  return http(url, 'POST', '/v1/session/login', { token, body: { username, password }, headers: { ...s, ...from(address) } });
}

describe('faults: floods and spraying', () => {
  it('a session-creation flood and a request flood get 429 RATE_LIMITED with Retry-After', async (t) => {
    const config = configFile('flood', { rateLimit: { createSession: 40, max: 100, window: 60 } });
    const node = await startServe(['--config', config, '--port', '0', '--store', 'memory:'], dir.path);
    try {
      const creates = await Promise.all(Array.from({ length: 80 }, () => http(node.url, 'POST', '/v1/sessions', { token, body: {}, headers: from('192.0.2.1') })));
      assert.equal(creates.filter((a) => a.status === 201).length, 40);
      for (const a of creates.filter((x) => x.status !== 201)) assertLimited(a, 'RATE_LIMITED');
      // SOAP's CreateSession is counted against the same budget: no second door.
      const soap = await fetch(`${node.url}/soap`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/soap+xml; charset=utf-8', ...from('192.0.2.1') },
        body: '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><CreateSession xmlns="urn:tessera:soap:1"/></e:Body></e:Envelope>',
      });
      const fault = await soap.text();
      assert.equal(soap.status, 429, fault);
      assert.match(fault, /RATE_LIMITED/);
      assert.ok(Number(soap.headers.get('retry-after')) >= 1, 'the Fault carries Retry-After');
      const other = await http(node.url, 'POST', '/v1/sessions', { token, body: {}, headers: from('192.0.2.2') });
      assert.equal(other.status, 201, 'another address has its own budget');
      const s = { 'session-id': creates[0].body.id, 'session-key': creates[0].body.key };
      const reads = await Promise.all(Array.from({ length: 150 }, () => http(node.url, 'GET', '/v1/session', { token, headers: { ...s, ...from('192.0.2.1') } })));
      const limited = reads.filter((a) => a.status === 429);
      assert.equal(limited.length, 51, 'every route\'s budget of 100 counts the SOAP request and these 150 reads');
      for (const a of limited) assertLimited(a, 'RATE_LIMITED');
      t.diagnostic(`create flood (80, limit 40): ${tally(creates)}; read flood (150, limit 100): ${tally(reads)}`);
    } finally {
      await stopServe(node);
    }
  });

  it('spraying (new session and username each time) is throttled per source address; the usernames are not stored in clear', async (t) => {
    const config = configFile('spray', { login: { sourceMaxFailures: 20, sourceWindow: 900 } });
    const db = join(dir.path, 'spray-db');
    mkdirSync(db);
    const node = await startServe(['--config', config, '--port', '0', '--store', `sqlite:${db}/tessera.db`], dir.path);
    try {
      const answers: HttpAnswer[] = [];
      for (let i = 0; i < 30; i++) answers.push(await login(node.url, '198.51.100.7', `hunter2-typed-as-username-${i}`, 'Winter2026!'));
      assert.deepEqual(answers.slice(0, 20).map((a) => a.status), Array(20).fill(401));
      for (const a of answers.slice(20)) assertLimited(a, 'LOGIN_THROTTLED');
      const elsewhere = await login(node.url, '198.51.100.8', 'alice', 'correct horse battery');
      assert.equal(elsewhere.status, 200, 'another address logs in');
      const bytes = readdirSync(db).map((f) => readFileSync(join(db, f)).toString('latin1')).join('');
      assert.ok(bytes.length > 0);
      assert.equal(bytes.includes('hunter2-typed-as-username'), false, 'an attempted username is in the database in clear');
      assert.equal(bytes.includes('198.51.100.7'), false, 'a source address is in the database in clear');
      t.diagnostic(`spray of 30 from one address (limit 20): ${tally(answers)}; usernames in clear in the SQLite files: 0`);
    } finally {
      await stopServe(node);
    }
  });

  it('a stranger cannot lock a user out; the slower per-username curve still stops a guess spread over addresses', async (t) => {
    const config = configFile('lockout', { login: { maxFailures: 5, window: 900, userMaxFailures: 12, userWindow: 3600 } });
    const node = await startServe(['--config', config, '--port', '0', '--store', 'memory:'], dir.path);
    try {
      const stranger: HttpAnswer[] = [];
      for (let i = 0; i < 8; i++) stranger.push(await login(node.url, '203.0.113.66', 'alice', `guess-${i}`));
      assert.deepEqual(stranger.slice(0, 5).map((a) => a.status), Array(5).fill(401));
      for (const a of stranger.slice(5)) assertLimited(a, 'LOGIN_THROTTLED');
      const real = await login(node.url, '203.0.113.10', 'alice', 'correct horse battery');
      assert.equal(real.status, 200, 'the real user, from their own address, is not locked out');
      const spread: HttpAnswer[] = [];
      for (let i = 0; i < 10; i++) spread.push(await login(node.url, `203.0.113.${100 + i}`, 'alice', `guess-${i}`));
      const limited = spread.filter((a) => a.status === 429);
      for (const a of limited) assertLimited(a, 'LOGIN_THROTTLED');
      assert.equal(spread.filter((a) => a.status === 401).length, 12 - 5, 'the per-username curve counts every address');
      t.diagnostic(`stranger 8 tries: ${tally(stranger)}; real user from own address: ${real.status}; `
        + `guesses spread over 10 addresses: ${tally(spread)}`);
    } finally {
      await stopServe(node);
    }
  });

  it('on Redis, two nodes share the counts', async (t) => {
    const redis = await startRedis();
    const config = configFile('redis', { rateLimit: { createSession: 30, window: 60 } });
    const store = `redis://127.0.0.1:${redis.port}`;
    const a = await startServe(['--config', config, '--port', '0', '--store', store], dir.path);
    const b = await startServe(['--config', config, '--port', '0', '--store', store], dir.path);
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        http(i % 2 ? a.url : b.url, 'POST', '/v1/sessions', { token, body: {}, headers: from('192.0.2.9') })));
      assert.equal(answers.filter((x) => x.status === 201).length, 30);
      for (const x of answers.filter((y) => y.status !== 201)) assertLimited(x, 'RATE_LIMITED');
      t.diagnostic(`50 creations over two nodes (limit 30): ${tally(answers)}`);
    } finally {
      await stopServe(a);
      await stopServe(b);
      await redis.stop();
    }
  });
});
