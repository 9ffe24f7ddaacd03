/**
 * Hostile XML against every XML door (/v1 before and after the session is
 * accepted, the Futurama routes, SOAP 1.1 and 1.2): each answer a clear 4xx
 * with a catalogue code (a SOAP 1.1 Fault's 500 the one 5xx allowed), nothing
 * expanded, nothing fetched, no prototype reached, and memory bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionClient, TOKENS, using } from './helpers/harness.js';
import { sendXml, xmlEngines } from './helpers/xml.js';

const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
  + Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')
  + ']><request><value>&lol9;</value></request>';

/** Each hostile body, with the status it must get. `inner` is the body's payload, wrapped per door below. */
const HOSTILE: { name: string; body: (wrap: (inner: string) => string) => string | Buffer; status: number; contentType?: string }[] = [
  { name: 'DOCTYPE with an internal entity', body: (w) => `<!DOCTYPE request [<!ENTITY x "expanded">]>${w('<value>&x;</value>')}`, status: 400 },
  { name: 'DOCTYPE with an external entity (file)', body: (w) => `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${w('<value>&xxe;</value>')}`, status: 400 },
  { name: 'DOCTYPE with an external DTD (URL)', body: (w) => `<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">${w('')}`, status: 400 },
  { name: 'a parameter entity', body: (w) => `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>${w('')}`, status: 400 },
  { name: 'billion laughs', body: () => laughs, status: 400 },
  { name: 'a lower-case doctype', body: (w) => `<!doctype r>${w('')}`, status: 400 },
  { name: '10,000 levels of nesting', body: (w) => w(`${'<a>'.repeat(10_000)}x${'</a>'.repeat(10_000)}`), status: 400 },
  { name: 'a 5 MB text node', body: (w) => w(`<value>${'A'.repeat(5 * 1024 * 1024)}</value>`), status: 413 },
  { name: 'a declaration naming another encoding', body: (w) => `<?xml version="1.0" encoding="ISO-8859-1"?>${w('<value>caf\u00e9</value>')}`, status: 400 },
  { name: 'a UTF-16 body', body: (w) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`<?xml version="1.0" encoding="UTF-16"?>${w('')}`, 'utf16le')]), status: 400 },
  { name: 'bytes that are not UTF-8', body: (w) => Buffer.concat([Buffer.from(w('<value>').replace(/<\/value>.*$/s, '')), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</value>')]), status: 400 },
  { name: 'a charset other than UTF-8', body: (w) => w(''), status: 415, contentType: 'charset=iso-8859-1' },
  { name: '__proto__ elements', body: (w) => w('<__proto__><polluted>yes</polluted></__proto__>'), status: 400 },
  { name: 'constructor.prototype elements', body: (w) => w('<constructor><prototype><polluted>yes</polluted></prototype></constructor>'), status: 400 },
  { name: 'a __proto__ attribute', body: (w) => w('<value __proto__="yes">1</value>'), status: 400 },
  { name: 'an entity XML does not define', body: (w) => w('<value>&nbsp;</value>'), status: 400 },
  { name: 'a reference to a character XML forbids', body: (w) => w('<value>&#0;&#x1;</value>'), status: 400 },
  { name: 'mismatched tags', body: (w) => w('<value><a></value></a>'), status: 400 },
  { name: 'two root elements', body: (w) => `${w('')}${w('')}`, status: 400 },
  { name: 'an undeclared namespace prefix', body: (w) => w('<x:value>1</x:value>'), status: 400 },
  { name: '100,000 sibling elements of one name', body: (w) => w(`<value>${'<a/>'.repeat(100_000)}</value>`), status: 400 },
];

interface Door {
  name: string;
  url: string;
  contentType: string;
  wrap: (inner: string) => string;
  soap11?: boolean;
  token?: string;
  session?: boolean;
}

const DOORS: Door[] = [
  { name: 'POST /v1/sessions', url: '/v1/sessions', contentType: 'application/xml', wrap: (i) => `<request>${i}</request>` },
  { name: 'PUT a record', url: '/v1/session/records/target', contentType: 'application/xml', wrap: (i) => `<request>${i}</request>`, session: true },
  { name: 'Futurama', url: '/rest/webapi/SessionKeepAlive', contentType: 'application/xml', wrap: (i) => `<request>${i}</request>`, token: TOKENS.portal },
  {
    name: 'SOAP 1.1', url: '/soap', contentType: 'text/xml', soap11: true,
    wrap: (i) => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><CreateSession xmlns="urn:tessera:soap:1">${i}</CreateSession></s:Body></s:Envelope>`,
  },
  {
    name: 'SOAP 1.2', url: '/soap', contentType: 'application/soap+xml',
    wrap: (i) => `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><CreateSession xmlns="urn:tessera:soap:1">${i}</CreateSession></e:Body></e:Envelope>`,
  },
];

for (const engine of xmlEngines()) {
  describe(`hostile XML, engine: ${engine}`, () => {
    it('answers every hostile document with a clear 4xx (a SOAP 1.1 Fault at most 500), expands and fetches nothing', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      await s.req('PUT', '/v1/session/records/target', { value: 'safe' });
      const rssBefore = process.memoryUsage().rss;
      for (const door of DOORS) {
        for (const h of HOSTILE) {
          for (let round = 0; round < 3; round++) {
            const res = await sendXml(app, door.url === '/soap' ? 'POST' : door.url.includes('records') ? 'PUT' : 'POST', door.url, {
              token: door.token, body: h.body(door.wrap),
              contentType: h.contentType ? `${door.contentType}; ${h.contentType}` : door.contentType,
              headers: door.session ? { 'session-id': s.id, 'session-key': s.key } : {},
            });
            const what = `${door.name}, ${h.name}: ${res.status} ${res.text.slice(0, 300)}`;
            assert.ok(res.status < 500 || (door.soap11 && res.status === 500 && /<soap:Fault>/.test(res.text)), what);
            // SOAP 1.1: what the parser refuses keeps its 4xx; what the envelope's reader refuses is a Fault, sent with 500.
            if (door.soap11 && h.status === 400) assert.ok(res.status === 400 || res.status === 500, what);
            else assert.equal(res.status, h.status, what);
            assert.doesNotMatch(res.text, /root:x:0|lollol|expanded/, what);
            if (door.url === '/soap') {
              assert.match(res.text, /<soap:Fault>/, what);
              assert.match(res.text, /<Code>(INVALID_REQUEST|PAYLOAD_TOO_LARGE|UNSUPPORTED_MEDIA_TYPE)<\/Code>/, what);
            } else {
              assert.match(res.text, door.url.startsWith('/rest') ? /<Message>(INVALID_REQUEST|PAYLOAD_TOO_LARGE|UNSUPPORTED_MEDIA_TYPE): / : /<code>(INVALID_REQUEST|PAYLOAD_TOO_LARGE|UNSUPPORTED_MEDIA_TYPE)<\/code>/, what);
            }
          }
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was reached');
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 256 * 1024 * 1024, `memory grew by ${Math.round(grown / 1048576)} MiB`);
      assert.equal((await s.req('GET', '/v1/session/records/target')).body.value, 'safe', 'nothing was written');
    }));

    it('SOAP SetRecord takes <Value> JSON text by the JSON body\'s rules: __proto__ keys and changed numbers refused, nothing written', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const set = (value: string) => sendXml(app, 'POST', '/soap', {
        contentType: 'application/soap+xml',
        body: '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><SetRecord xmlns="urn:tessera:soap:1">'
          + `<SessionId>${s.id}</SessionId><SessionKey>${s.key}</SessionKey><Name>target</Name><Value>${value}</Value></SetRecord></e:Body></e:Envelope>`,
      });
      for (const [value, why] of [['{"__proto__":{"polluted":"yes"}}', '__proto__'], ['{"price":1e400}', 'out of range'], ['{"id":12345678901234567890}', 'no exact double']]) {
        const res = await set(value);
        assert.equal(res.status, 400, `${value}: ${res.text}`);
        assert.match(res.text, /INVALID_REQUEST/, value);
        assert.match(res.text, new RegExp(why), value);
      }
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
      assert.equal((await s.req('GET', '/v1/session/records/target')).status, 404, 'nothing was written');
      assert.equal((await set('{"price":12.5}')).status, 200, 'a value JSON keeps as sent is written');
    }));

    it('keeps constructor and prototype as plain data inside a value, as JSON does', () => using(engine, {}, async ({ app }) => {
      const s = await SessionClient.create(app, { rotation: 'on-privilege-change' });
      const res = await sendXml(app, 'PUT', '/v1/session/records/odd', {
        headers: { 'session-id': s.id, 'session-key': s.key },
        body: '<request><value><constructor>1</constructor><toString>2</toString><hasOwnProperty type="number">3</hasOwnProperty><prototype/></value></request>',
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((await s.req('GET', '/v1/session/records/odd')).body.value, { constructor: '1', toString: '2', hasOwnProperty: 3, prototype: '' });
    }));
  });
}
