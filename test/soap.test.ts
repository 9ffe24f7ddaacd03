/**
 * Section 13's SOAP endpoint through stock clients that loaded the WSDL from a
 * running server: the `soap` npm package calls all seventeen operations (SOAP
 * 1.1 and 1.2), Python's zeep a keep-alive and an end. On memory, SQLite and
 * Redis.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import * as soap from 'soap';
import { send, TOKENS, using, type Harness } from './helpers/harness.js';
import { readXml, sendXml, xmlEngines } from './helpers/xml.js';

const run = promisify(execFile);
const USERS = { users: [{ name: 'alice', password: 'correct horse battery', roles: ['customer'] }], records: { results: { kind: 'multiple' } } };

/** A stock client of the running server's WSDL, sending `token`. */
async function client(url: string, token: string | null, soap12 = false): Promise<any> {
  const c = await soap.createClientAsync(`${url}/soap?wsdl`, soap12 ? { forceSoap12Headers: true } : {});
  if (token !== null) c.addHttpHeader('Authorization', `Bearer ${token}`);
  return c;
}

/** The Fault a call was answered with: its code, the detail's code and the next key it carries. */
async function fault(call: Promise<unknown>): Promise<{ status: number; code: string; sessionKey?: string }> {
  try {
    await call;
  } catch (e: any) {
    const f = e.root?.Envelope?.Body?.Fault;
    assert.ok(f, `a Fault, not ${e.message}`);
    const detail = (f.detail ?? f.Detail).TesseraFault;
    return { status: e.response?.status, code: detail.Code, sessionKey: detail.SessionKey };
  }
  assert.fail('expected a Fault');
}

async function listening(h: Harness): Promise<string> {
  return h.app.listen({ host: '127.0.0.1', port: 0 });
}

/** Python 3 with zeep: Debian's (the one python3-zeep installs into) first. */
async function zeepPython(): Promise<string | null> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', 'import zeep']);
      return python;
    } catch { /* next */ }
  }
  return null;
}

for (const engine of xmlEngines()) {
  describe(`SOAP through the soap package, engine: ${engine}`, () => {
    it('loads the WSDL and calls all seventeen operations (SOAP 1.1)', () => using(engine, USERS, async (h) => {
      const url = await listening(h);
      const c = await client(url, TOKENS.web);
      const ops = Object.keys(c.describe().Tessera.TesseraSoap11);
      assert.equal(ops.length, 17);
      let [r] = await c.CreateSessionAsync({ IdleTimeout: 600, Rotation: 'per-request' });
      const id = r.SessionId;
      assert.equal(r.IdleTimeout, 600);
      let key = r.SessionKey;
      const call = async (op: string, args: object = {}) => {
        const [out] = await c[`${op}Async`]({ SessionId: id, SessionKey: key, ...args });
        if (out?.SessionKey) key = out.SessionKey;
        return out;
      };
      r = await call('GetSession');
      assert.equal(r.Id, id);
      assert.equal(r.TransactionDepth, 0);
      r = await call('SessionKeepAlive', { TouchRecords: true });
      assert.equal(r.Message, 'success');
      assert.ok(r.NextTimeout instanceof Date);
      r = await call('Login', { Username: 'alice', Password: 'correct horse battery' });
      assert.equal(r.User.Name, 'alice');
      assert.equal((await call('GetSession')).User.Name, 'alice');

      r = await call('SetRecord', { Name: 'cart', Value: JSON.stringify({ seats: ['A1'], total: 12.5, gift: null }) });
      assert.equal(r.Version, 1);
      assert.deepEqual(JSON.parse((await call('GetRecord', { Name: 'cart' })).Value), { seats: ['A1'], total: 12.5, gift: null });
      await call('SetRecord', { Name: 'results', Key: 'b', Value: '"second"' });
      await call('SetRecord', { Name: 'results', Key: 'a', Value: '1' });
      r = await call('GetRecord', { Name: 'results' });
      assert.deepEqual(r.Entries.Entry.map((e: any) => [e.Key, JSON.parse(e.Value)]), [['a', 1], ['b', 'second']]);

      // A transaction committed, and one rolled back.
      assert.equal((await call('BeginTransaction')).Depth, 1);
      await call('SetRecord', { Name: 'cart', Value: '"committed"' });
      assert.equal((await call('Commit')).Depth, 0);
      assert.equal(JSON.parse((await call('GetRecord', { Name: 'cart' })).Value), 'committed');
      assert.equal((await call('BeginTransaction')).Depth, 1);
      await call('SetRecord', { Name: 'cart', Value: '"rolled back"' });
      assert.equal((await call('DeleteRecord', { Name: 'results', Key: 'a' })).Deleted, true);
      assert.equal((await call('Rollback', { All: true })).Depth, 0);
      assert.equal(JSON.parse((await call('GetRecord', { Name: 'cart' })).Value), 'committed');
      assert.equal((await call('GetRecord', { Name: 'results' })).Entries.Entry.length, 2);
      assert.equal((await call('DeleteRecord', { Name: 'results' })).Deleted, true);

      r = await call('HoldResources', { Resources: { Resource: ['seat:E1:A1', 'seat:E1:A2'] }, Ttl: 120 });
      assert.deepEqual(r.Holds.Hold.map((x: any) => x.Resource), ['seat:E1:A1', 'seat:E1:A2']);
      assert.ok(r.Holds.Hold.every((x: any) => Number(x.Token) >= 1));
      r = await call('GetHolds');
      assert.equal(r.Holds.Hold.length, 2);
      r = await call('ReleaseHolds', { Resource: 'seat:E1:A2' });
      assert.deepEqual(r.Released.Resource, ['seat:E1:A2']);
      r = await call('ConfirmHolds', { Resources: { Resource: ['seat:E1:A1'] } });
      assert.equal(r.Claims.Claim.Resource ?? r.Claims.Claim[0].Resource, 'seat:E1:A1');
      r = await call('GetHolds');
      assert.ok(r.Claims.Claim);

      r = await call('Logout');
      assert.equal(r.Message, 'success');
      r = await call('TransferSession');
      assert.notEqual(r.SessionId, id);
      const moved = { SessionId: r.SessionId, SessionKey: r.SessionKey };
      assert.equal((await fault(c.GetSessionAsync({ SessionId: id, SessionKey: key }))).code, 'SESSION_INVALID', 'the old id is gone');
      [r] = await c.SessionEndAsync(moved);
      assert.equal(r.Message, 'success');
      assert.equal((await fault(c.GetSessionAsync(moved))).code, 'SESSION_INVALID');
    }));

    it('answers Faults with the catalogue code: a replayed key, a missing record (with the next key), no token, a wrong role', () => using(engine, {}, async (h) => {
      const url = await listening(h);
      const c = await client(url, TOKENS.web);
      const [created] = await c.CreateSessionAsync({});
      const [first] = await c.GetSessionAsync({ SessionId: created.SessionId, SessionKey: created.SessionKey });
      const missing = await fault(c.GetRecordAsync({ SessionId: created.SessionId, SessionKey: first.SessionKey, Name: 'nope' }));
      assert.equal(missing.code, 'RECORD_NOT_FOUND');
      assert.equal(missing.status, 500, 'SOAP 1.1 sends a Fault with 500');
      assert.ok(missing.sessionKey, 'the Fault carries the key to send next');
      const [next] = await c.GetSessionAsync({ SessionId: created.SessionId, SessionKey: missing.sessionKey });
      assert.ok(next.SessionKey);
      h.clock.advance(11_000); // past the grace window
      const replayed = await fault(c.GetSessionAsync({ SessionId: created.SessionId, SessionKey: created.SessionKey }));
      assert.equal(replayed.code, 'SESSION_KEY_REPLAYED');
      assert.equal(replayed.sessionKey, undefined, 'a 401 carries no key');
      assert.equal((await fault(c.GetSessionAsync({ SessionId: created.SessionId, SessionKey: next.SessionKey }))).code, 'SESSION_INVALID', 'revoked');

      const anonymous = await client(url, null);
      const noToken = await fault(anonymous.CreateSessionAsync({}));
      assert.deepEqual([noToken.status, noToken.code], [401, 'CLIENT_UNAUTHORIZED']);
      const portal = await client(url, TOKENS.portal);
      const wrongRole = await fault(portal.CreateSessionAsync({}));
      assert.deepEqual([wrongRole.status, wrongRole.code], [403, 'FORBIDDEN']);
    }));

    it('speaks SOAP 1.2: answers, and Faults with Code/Reason and the catalogue status', () => using(engine, {}, async (h) => {
      const url = await listening(h);
      const c = await client(url, TOKENS.web, true);
      const [created] = await c.CreateSessionAsync({ Queue: false });
      assert.equal(created.Queue, false);
      assert.match(c.lastRequestHeaders['Content-Type'], /^application\/soap\+xml/);
      const [kept] = await c.SessionKeepAliveAsync({ SessionId: created.SessionId, SessionKey: created.SessionKey });
      assert.equal(kept.Message, 'success');
      const f = await fault(c.CommitAsync({ SessionId: created.SessionId, SessionKey: kept.SessionKey }));
      assert.deepEqual([f.status, f.code], [409, 'TRANSACTION_NOT_OPEN']);
      const raw = await sendXml(h.app, 'POST', '/soap', {
        contentType: 'application/soap+xml; charset=utf-8', token: null,
        body: '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><CreateSession xmlns="urn:tessera:soap:1"/></e:Body></e:Envelope>',
      });
      assert.equal(raw.status, 401);
      const body = readXml(raw.text)['soap:Envelope']['soap:Body']['soap:Fault'];
      assert.equal(body['soap:Code']['soap:Value'], 'soap:Sender');
      assert.equal(body['soap:Detail'].TesseraFault.Code, 'CLIENT_UNAUTHORIZED');
    }));

    it('serves the WSDL with its own address, and refuses what is not an operation of it', () => using(engine, {}, async (h) => {
      const wsdl = await sendXml(h.app, 'GET', '/soap?wsdl', { token: null, headers: { host: 'sessions.example:9000' } });
      assert.equal(wsdl.status, 200);
      assert.match(wsdl.text, /<soap:address location="http:\/\/sessions\.example:9000\/soap"\/>/);
      assert.match(wsdl.text, /<soap12:address location="http:\/\/sessions\.example:9000\/soap"\/>/);
      const evil = await sendXml(h.app, 'GET', '/soap?wsdl', { token: null, headers: { host: 'x"/><evil' } });
      assert.equal(evil.status, 400);
      const env = (op: string) => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${op}</s:Body></s:Envelope>`;
      const unknown = await sendXml(h.app, 'POST', '/soap', { contentType: 'text/xml', body: env('<DropTables xmlns="urn:tessera:soap:1"/>') });
      assert.equal(unknown.status, 500);
      assert.match(unknown.text, /<Code>INVALID_REQUEST<\/Code>/);
      const wrongAction = await sendXml(h.app, 'POST', '/soap', {
        contentType: 'text/xml', headers: { soapaction: '"urn:tessera:soap:1#SessionEnd"' }, body: env('<CreateSession xmlns="urn:tessera:soap:1"/>'),
      });
      assert.match(wrongAction.text, /SOAP action/);
      const mismatch = await sendXml(h.app, 'POST', '/soap', { contentType: 'application/soap+xml', body: env('<CreateSession xmlns="urn:tessera:soap:1"/>') });
      assert.equal(mismatch.status, 400);
      const ok = await sendXml(h.app, 'POST', '/soap', { contentType: 'text/xml', headers: { soapaction: 'urn:tessera:soap:1#CreateSession' }, body: env('<CreateSession xmlns="urn:tessera:soap:1"/>') });
      assert.equal(ok.status, 200);
      const asJson = await send(h.app, 'GET', '/v1/session', {
        headers: { 'session-id': /<SessionId>([^<]+)/.exec(ok.text)![1], 'session-key': /<SessionKey>([^<]+)/.exec(ok.text)![1] },
      });
      assert.equal(asJson.status, 200, 'a session made over SOAP is the same session over JSON');
    }));
  });
}

describe('SOAP through Python zeep', () => {
  it('loads the WSDL and runs a keep-alive and an end through the generated client', async (t) => {
    const python = await zeepPython();
    if (!python) {
      if (process.env.CI) assert.fail('python3-zeep is missing: .ci/run installs it');
      return t.skip('python3-zeep is not installed (apt-get install python3-zeep); CI installs it');
    }
    await using(xmlEngines()[0] ?? 'memory', {}, async (h) => {
      const url = await listening(h);
      const script = `
import sys, json, requests, zeep
from zeep.transports import Transport
session = requests.Session()
session.headers['Authorization'] = 'Bearer ' + sys.argv[2]
client = zeep.Client(sys.argv[1] + '/soap?wsdl', transport=Transport(session=session))
created = client.service.CreateSession(IdleTimeout=60)
kept = client.service.SessionKeepAlive(SessionId=created.SessionId, SessionKey=created.SessionKey, TouchRecords=True)
soap12 = client.bind('Tessera', 'TesseraSoap12')
described = soap12.GetSession(SessionId=created.SessionId, SessionKey=kept.SessionKey)
ended = client.service.SessionEnd(SessionId=created.SessionId, SessionKey=described.SessionKey)
try:
    client.service.GetSession(SessionId=created.SessionId, SessionKey=described.SessionKey)
    code = None
except zeep.exceptions.Fault as fault:
    code = fault.detail.find('{urn:tessera:soap:1}TesseraFault/{urn:tessera:soap:1}Code').text
print(json.dumps({'id': created.SessionId, 'kept': kept.Message, 'next': kept.NextTimeout.isoformat(),
                  'described': described.Id, 'ended': ended, 'fault': code}))
`;
      const { stdout } = await run(python, ['-c', script, url, TOKENS.web], { timeout: 120_000 });
      const out = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.equal(out.kept, 'success');
      assert.equal(new Date(out.next).getTime(), h.clock() + 60_000);
      assert.equal(out.described, out.id);
      assert.equal(out.ended, 'success');
      assert.equal(out.fault, 'SESSION_INVALID');
    });
  });
});
