/**
 * Section 13: XML on every /v1 route (bodies, answers, errors, content
 * negotiation, the session headers), the typed JSON <-> XML round trip of
 * record values (with a property test), and the Futurama routes, on memory,
 * SQLite and Redis.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NOT_XML_CHAR, XML_NAME } from '../src/http/xml/document.js';
import { negotiate } from '../src/http/xml/negotiate.js';
import { send, SessionClient, TOKENS, using } from './helpers/harness.js';
import { readXml, sendXml, xmlEngines } from './helpers/xml.js';

const XML = 'application/xml; charset=utf-8';

describe('content negotiation (q-values)', () => {
  const offers = ['application/json', 'application/xml', 'text/xml'];
  it('picks by q, then by the server order', () => {
    assert.equal(negotiate(undefined, offers), 'application/json');
    assert.equal(negotiate('*/*', offers), 'application/json');
    assert.equal(negotiate('application/xml', offers), 'application/xml');
    assert.equal(negotiate('application/json;q=0.5, application/xml;q=0.9', offers), 'application/xml');
    assert.equal(negotiate('application/xml;q=0.2, */*;q=0.1', offers), 'application/xml');
    assert.equal(negotiate('application/*', ['application/xml', 'application/json']), 'application/xml');
    assert.equal(negotiate('text/*', offers), 'text/xml');
    assert.equal(negotiate('application/json;q=0, */*', offers), 'application/xml', 'q=0 refuses JSON even under */*');
    assert.equal(negotiate('text/html', offers), null);
    assert.equal(negotiate('application/json;q=0, application/xml;q=0, text/xml;q=0', offers), null);
    assert.equal(negotiate('garbage', offers), null);
  });
});

for (const engine of xmlEngines()) {
  describe(`XML on /v1, engine: ${engine}`, () => {
    it('creates a session and writes a record in XML, with the same session headers as JSON', () => using(engine, {}, async ({ app }) => {
      const created = await sendXml(app, 'POST', '/v1/sessions', { body: '<?xml version="1.0" encoding="UTF-8"?>\n<request>\n  <idleTimeout>60</idleTimeout>\n  <rotation>per-request</rotation>\n  <queue>true</queue>\n</request>' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.type, XML);
      const doc = readXml(created.text).response;
      assert.equal(doc.idleTimeout['#text'], '60');
      assert.equal(doc.idleTimeout['@_type'], 'number');
      assert.equal(doc.queue['#text'], 'true');
      assert.equal(created.headers['session-id'], doc.id);
      let key = doc.key as string;
      const put = await sendXml(app, 'PUT', '/v1/session/records/cart', {
        headers: { 'session-id': doc.id, 'session-key': key },
        body: '<request><value type="object"><seats type="array"><item>E1:A12</item><item>E1:A13</item></seats><count type="number">2</count><gift type="boolean">false</gift><note type="null"/><code type="string">007</code></value><ttl>600</ttl></request>',
      });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.type, XML);
      assert.notEqual(put.headers['session-key'], key, 'rotated as with JSON');
      key = put.headers['session-key'] as string;
      const asJson = await send(app, 'GET', '/v1/session/records/cart', { headers: { 'session-id': doc.id, 'session-key': key } });
      assert.equal(asJson.status, 200);
      assert.deepEqual(asJson.body.value, { seats: ['E1:A12', 'E1:A13'], count: 2, gift: false, note: null, code: '007' });
    }));

    it('answers in XML when Accept prefers it, in JSON when it prefers JSON, 406 when it takes neither', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const h = { 'session-id': s.id, 'session-key': s.key };
      const xml = await sendXml(app, 'GET', '/v1/session', { headers: h, accept: 'application/json;q=0.5, application/xml' });
      assert.equal(xml.status, 200);
      assert.equal(xml.type, XML);
      assert.equal(readXml(xml.text).response.id, s.id);
      assert.equal(readXml(xml.text).response.user['@_type'], 'null');
      const textXml = await sendXml(app, 'GET', '/v1/session', { headers: h, accept: 'text/xml' });
      assert.equal(textXml.type, 'text/xml; charset=utf-8');
      const json = await sendXml(app, 'POST', '/v1/session/keepalive', { headers: h, body: '<request/>', accept: 'application/json' });
      assert.equal(json.status, 200, json.text);
      assert.match(json.type, /^application\/json/);
      assert.equal(JSON.parse(json.text).message, 'success');
      const none = await sendXml(app, 'GET', '/v1/session', { headers: h, accept: 'text/html, image/png' });
      assert.equal(none.status, 406);
      assert.equal(JSON.parse(none.text).error.code, 'NOT_ACCEPTABLE');
      const noneXml = await sendXml(app, 'POST', '/v1/session/keepalive', { headers: h, body: '<request/>', accept: 'application/json;q=0, text/plain' });
      assert.equal(noneXml.status, 406);
      assert.equal(readXml(noneXml.text).response.error.code, 'NOT_ACCEPTABLE', 'an XML request hears its 406 in XML');
    }));

    it('writes errors as <response><error><code/><message/></error></response>, keys and all', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const missing = await sendXml(app, 'GET', '/v1/session/records/nope', { headers: { 'session-id': s.id, 'session-key': s.key }, accept: 'application/xml' });
      assert.equal(missing.status, 404);
      const err = readXml(missing.text).response.error;
      assert.equal(err.code, 'RECORD_NOT_FOUND');
      assert.equal(typeof err.message, 'string');
      assert.equal(typeof missing.headers['session-key'], 'string', 'an accepted request carries the next key, errors included');
      const noToken = await sendXml(app, 'POST', '/v1/sessions', { token: null, body: '<request/>' });
      assert.equal(noToken.status, 401);
      assert.equal(readXml(noToken.text).response.error.code, 'CLIENT_UNAUTHORIZED');
      const portal = await sendXml(app, 'POST', '/v1/sessions', { token: TOKENS.portal, body: '<request/>' });
      assert.equal(portal.status, 403);
      assert.equal(readXml(portal.text).response.error.code, 'FORBIDDEN');
      const bad = await sendXml(app, 'POST', '/v1/sessions', { body: '<request><idleTimeout>soon</idleTimeout></request>' });
      assert.equal(bad.status, 400);
      assert.equal(readXml(bad.text).response.error.details.field, 'idleTimeout');
      const wrongRoot = await sendXml(app, 'POST', '/v1/sessions', { body: '<session/>' });
      assert.equal(readXml(wrongRoot.text).response.error.code, 'INVALID_REQUEST');
      const soapHere = await sendXml(app, 'POST', '/v1/sessions', { body: '<request/>', contentType: 'application/soap+xml' });
      assert.equal(soapHere.status, 415);
    }));

    it('takes arrays as repeated <item> (holds, authorize) and answers them the same way', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const h = { 'session-id': s.id, 'session-key': s.key };
      const held = await sendXml(app, 'POST', '/v1/session/holds', { headers: h, body: '<request><resources><item>seat:X:1</item><item>seat:X:2</item></resources><ttl>60</ttl></request>' });
      assert.equal(held.status, 201, held.text);
      const holds = readXml(held.text).response.holds;
      assert.equal(holds['@_type'], 'array');
      assert.deepEqual(holds.item.map((i: any) => i.resource), ['seat:X:1', 'seat:X:2']);
      const one = await sendXml(app, 'POST', '/v1/session/authorize', { headers: h, body: '<request><anyOf><item>customer</item></anyOf></request>' });
      assert.equal(one.status, 200, one.text);
      assert.equal(readXml(one.text).response.allowed['#text'], 'false');
      const listed = await sendXml(app, 'GET', '/v1/session/records', { headers: h, accept: 'application/xml' });
      assert.match(listed.text, /<records type="array"\/>/, 'an empty array is marked');
    }));

    it('refuses a value XML cannot carry with a clear 400, never a changed value', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const h = { 'session-id': s.id, 'session-key': s.key };
      for (const value of [{ 'two words': 1 }, { 'ns:x': 1 }, { '1st': 1 }, 'bell\u0007', 'half \ud800 pair']) {
        assert.equal((await s.req('PUT', '/v1/session/records/odd', { value })).status, 200);
        const res = await sendXml(app, 'GET', '/v1/session/records/odd', { headers: h, accept: 'application/xml' });
        assert.equal(res.status, 400, JSON.stringify(value));
        const err = readXml(res.text).response.error;
        assert.equal(err.code, 'INVALID_REQUEST');
        assert.match(err.message, /XML/);
      }
      for (const number of ['9007199254740993', '1e400', '-1e999', 'NaN', 'Infinity', '0x10', '+1', '.5']) {
        const res = await sendXml(app, 'PUT', '/v1/session/records/n', { headers: h, body: `<request><value type="number">${number}</value></request>` });
        assert.equal(res.status, 400, number);
        assert.equal(readXml(res.text).response.error.code, 'INVALID_REQUEST', number);
      }
      const ok = await s.req('PUT', '/v1/session/records/odd', { value: { line: 'a\r\nb\rc', tab: '\t', empty: '', spaces: '  ' } });
      assert.equal(ok.status, 200);
      const xml = await sendXml(app, 'GET', '/v1/session/records/odd', { headers: h, accept: 'application/xml' });
      const back = await sendXml(app, 'PUT', '/v1/session/records/back', { headers: h, body: `<request>${xml.text.slice(xml.text.indexOf('<value'), xml.text.lastIndexOf('<version'))}</request>` });
      assert.equal(back.status, 200, back.text);
      assert.deepEqual((await s.req('GET', '/v1/session/records/back')).body.value, { line: 'a\r\nb\rc', tab: '\t', empty: '', spaces: '  ' });
    }));
  });

  describe(`Futurama routes, engine: ${engine}`, () => {
    it('keeps a session alive and ends it for a portal client, in JSON and in XML', () => using(engine, {}, async ({ app, clock }) => {
      const s = await SessionClient.create(app, { idleTimeout: 60, rotation: 'on-privilege-change' });
      clock.advance(30_000);
      const json = await send(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: TOKENS.portal, body: { sessionID: s.id } });
      assert.equal(json.status, 200);
      assert.deepEqual(Object.keys(json.body), ['Message', 'NextTimeout']);
      assert.equal(json.body.Message, 'success');
      assert.equal(json.body.NextTimeout, new Date(clock() + 60_000).toISOString());
      assert.equal(json.headers['session-key'], undefined, 'no key is issued or needed');
      clock.advance(45_000);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'alive past its first timeout, same key');
      const xml = await sendXml(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: TOKENS.ops, body: `<request><sessionID>${s.id}</sessionID></request>` });
      assert.equal(xml.status, 200, xml.text);
      assert.equal(xml.type, XML);
      assert.deepEqual(readXml(xml.text).response, { Message: 'success', NextTimeout: new Date(clock() + 60_000).toISOString() });
      const end = await sendXml(app, 'POST', '/rest/webapi/SessionEnd', { token: TOKENS.portal, body: `<request><sessionID>${s.id}</sessionID></request>` });
      assert.equal(end.status, 200);
      assert.deepEqual(readXml(end.text).response, { Message: 'success' });
      assert.equal((await s.req('GET', '/v1/session')).body.error.code, 'SESSION_INVALID');
      const again = await send(app, 'POST', '/rest/webapi/SessionEnd', { token: TOKENS.portal, body: { sessionID: s.id } });
      assert.equal(again.status, 404);
      assert.deepEqual(again.body, { Message: 'SESSION_NOT_FOUND: No such session.' });
    }));

    it('answers failures as Message "CODE: message": no token, wrong role, bad body', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app);
      const noToken = await send(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: null, body: { sessionID: s.id } });
      assert.equal(noToken.status, 401);
      assert.match(noToken.body.Message, /^CLIENT_UNAUTHORIZED: /);
      const app_ = await send(app, 'POST', '/rest/webapi/SessionEnd', { token: TOKENS.web, body: { sessionID: s.id } });
      assert.equal(app_.status, 403);
      assert.match(app_.body.Message, /^FORBIDDEN: /);
      const bad = await send(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: TOKENS.portal, body: { session: s.id } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.Message, /^INVALID_REQUEST: /);
      const xmlBad = await sendXml(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: TOKENS.portal, body: '<request/>' });
      assert.equal(xmlBad.status, 400);
      assert.match(readXml(xmlBad.text).response.Message, /^INVALID_REQUEST: /);
      assert.equal((await s.req('GET', '/v1/session')).status, 200, 'the session was not touched');
    }));

    it('waits for the session\'s turn like any request of it', () => using(engine, { session: { queueTimeout: 1 } }, async ({ app, tessera }) => {
      const s = await SessionClient.create(app, { queue: false });
      const release = await tessera.takeTurn({ id: 'web', roles: ['app'] }, s.id);
      try {
        const busy = await send(app, 'POST', '/rest/webapi/SessionKeepAlive', { token: TOKENS.portal, body: { sessionID: s.id } });
        assert.equal(busy.status, 409);
        assert.match(busy.body.Message, /^SESSION_BUSY: /);
      } finally {
        await release!();
      }
    }));
  });
}

// ---- the typed round trip ------------------------------------------------

const key = fc.oneof(fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/), fc.constantFrom('item', 'type', 'value', 'constructor', 'toString', 'hasOwnProperty'));
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('', ' ', '  x ', 'true', '12', '-0', '1e5', 'null', 'a\r\nb', 'a\rb', '\t', '<&>"\'', ']]>', '&amp;'));
const { carried } = fc.letrec<{ carried: unknown }>((tie) => ({
  carried: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), text,
    fc.array(tie('carried'), { maxLength: 4 }), fc.dictionary(key, tie('carried'), { maxKeys: 4 })),
}));

/** Whether XML can carry a JSON value: every property name an XML name, every string free of characters XML 1.0 lacks. */
function carriable(v: unknown): boolean {
  if (typeof v === 'string') return !NOT_XML_CHAR.test(v);
  if (Array.isArray(v)) return v.every(carriable);
  if (v !== null && typeof v === 'object') return Object.entries(v).every(([k, x]) => XML_NAME.test(k) && carriable(x));
  return true;
}

describe('JSON <-> XML round trip of record values (property)', () => {
  it('a value written as JSON, read as XML and written back as XML reads as the same JSON value; what XML cannot carry is a 400', () =>
    using('memory', {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const h = { 'session-id': s.id, 'session-key': s.key };
      await fc.assert(fc.asyncProperty(fc.oneof(carried, fc.jsonValue({ maxDepth: 4 })), async (value) => {
        const expected = JSON.parse(JSON.stringify(value));
        const put = await s.req('PUT', '/v1/session/records/p', { value });
        // JSON itself refuses it: an inexact integer, or a __proto__ / constructor.prototype key.
        if (put.status === 400 && /beyond 2\^53|__proto__/.test(put.body.error.message)) return;
        assert.equal(put.status, 200, JSON.stringify(put.body));
        const xml = await sendXml(app, 'GET', '/v1/session/records/p', { headers: h, accept: 'application/xml' });
        if (!carriable(expected)) {
          assert.equal(xml.status, 400, xml.text);
          assert.equal(readXml(xml.text).response.error.code, 'INVALID_REQUEST');
          return;
        }
        assert.equal(xml.status, 200, xml.text);
        const element = xml.text.slice(xml.text.indexOf('<value'), xml.text.lastIndexOf('<version type="number">'));
        const back = await sendXml(app, 'PUT', '/v1/session/records/q', { headers: h, body: `<request>${element}</request>` });
        assert.equal(back.status, 200, `${back.text}\n${element}`);
        assert.deepEqual((await s.req('GET', '/v1/session/records/q')).body.value, expected);
      }), { numRuns: 300 });
    }));
});
