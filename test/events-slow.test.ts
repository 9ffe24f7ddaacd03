/**
 * A subscriber of the event stream that stops reading does not make the
 * server buffer without end: past `events.subscriberBuffer` bytes its events
 * are dropped and counted, and it is told how many (a `gap` event, reason
 * `slow`) once it reads again.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { makeHarness, send, TOKENS } from './helpers/harness.js';

test('a slow subscriber loses events past its buffer, counted, and is told of the gap', async () => {
  const h = await makeHarness('memory', { events: { subscriberBuffer: 65536 } });
  try {
    const url = new URL(await h.app.listen({ host: '127.0.0.1', port: 0 }));
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '/v1/admin/events', headers: { authorization: `Bearer ${TOKENS.ops}` } }, resolve)
        .on('error', reject).end();
    });
    assert.equal(res.statusCode, 200);
    res.pause(); // stops reading: the kernel's buffers fill, then the server's
    const client = { id: 'web', roles: ['app'] as const };
    let made = 0;
    while (h.tessera.feed.dropped === 0 && made < 200_000) {
      for (let i = 0; i < 1000; i++) await h.tessera.createSession(client);
      made += 1000;
      await new Promise((r) => setImmediate(r));
    }
    const dropped = h.tessera.feed.dropped;
    assert.ok(dropped > 0, `dropped after ${made} events`);
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => { text += c; });
    res.resume();
    await new Promise((r) => setTimeout(r, 500));
    await h.tessera.createSession(client); // the next event after it caught up comes after a gap event
    await new Promise((r) => setTimeout(r, 500));
    const gap = /event: gap\ndata: (.+)\n/.exec(text);
    assert.ok(gap, 'a gap event');
    const data = JSON.parse(gap[1]);
    assert.equal(data.reason, 'slow');
    assert.equal(data.dropped, h.tessera.feed.dropped);
    const metrics = await send(h.app, 'GET', '/metrics', { token: TOKENS.ops });
    assert.match(metrics.body, new RegExp(`^tessera_events_dropped_total ${h.tessera.feed.dropped}$`, 'm'));
    process.stdout.write(`# a paused subscriber: ${made} events made, ${dropped} dropped, told by a gap event\n`);
    res.destroy();
  } finally {
    await h.close();
  }
});
