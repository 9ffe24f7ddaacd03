import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { FeedItem } from '../../service/events.js';
import { EVENT_TYPES } from '../../service/context.js';
import type { Tessera } from '../../service/tessera.js';
import { ADMIN } from '../session.js';
import { clientRoute } from '../schemas.js';

const MAX_EVENT_ID = 64;

/** One SSE frame: `id:` (events only), `event:` (the type, or `gap`), `data:` (one line of JSON). */
function frame(item: FeedItem): string {
  return item.kind === 'event'
    ? `id: ${item.id}\nevent: ${item.type}\ndata: ${item.data}\n\n`
    : `event: gap\ndata: ${item.data}\n\n`;
}

/**
 * GET /v1/admin/events: the event stream (docs/operations.md) as Server-Sent Events.
 * `Last-Event-ID` resumes from the backlog; `?types=` filters; a comment
 * every `events.heartbeat` seconds keeps proxies from closing it; a
 * subscriber that lags by more than `events.subscriberBuffer` bytes loses
 * events (counted), and is told how many by a `gap` event once it catches up.
 */
export function eventRoutes(app: FastifyInstance, tessera: Tessera): void {
  const feed = tessera.feed;
  const { heartbeat, subscriberBuffer } = tessera.config.events;
  const open = new Set<ServerResponse>();

  // A stream never ends by itself: the server closes them as it drains.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get<{ Querystring: { types?: string } }>('/v1/admin/events', {
    config: { access: ADMIN },
    schema: clientRoute({
      operationId: 'streamEvents',
      summary: 'The event stream of every node (Server-Sent Events)',
      description: '`event:` is the type, `data:` JSON `{ type, at, sessionId?, user?, resource? }` (never a key), `id:` for Last-Event-ID. '
        + 'A `gap` event (no id; data `{ type: "gap", at, reason: "backlog"|"slow", dropped? }`) tells of events missed. '
        + 'Comment lines are heartbeats. docs/operations.md has the backlog and what a resume gets.',
      tags: ['admin'],
      querystring: { type: 'object', properties: { types: { type: 'string', description: `Comma-separated, of: ${EVENT_TYPES.join(', ')}. All by default.` } } },
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', description: 'Resume after this event id.' } } },
      response: { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    }),
  }, async (request, reply) => {
    const types = feed.parseTypes(request.query.types);
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && header !== '' ? header.slice(0, MAX_EVENT_ID) : null;
    const res = reply.raw;
    let started = false;
    const early: FeedItem[] = [];
    let dropped = 0;
    // Frames of one tick go out in one write: a burst of events costs one syscall, not one each.
    let batch = '';
    const flush = () => {
      const text = batch;
      batch = '';
      if (text !== '' && !res.destroyed) res.write(text);
    };
    const write = (item: FeedItem) => {
      if (!started) return void early.push(item);
      if (res.writableLength + batch.length > subscriberBuffer) {
        dropped++;
        feed.dropped++;
        return;
      }
      if (batch === '') setImmediate(flush);
      if (dropped > 0) {
        batch += frame(feed.gap('slow', dropped));
        dropped = 0;
      }
      batch += frame(item);
    };
    const unsubscribe = await feed.subscribe({ types, lastEventId }, write);
    reply.hijack();
    if (request.raw.destroyed) return void unsubscribe(); // gone while it subscribed
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    // What the resume found (at most the backlog) goes out whole, past the buffer bound: only live events are dropped.
    res.write(`: tessera events\n\n${early.map(frame).join('')}`);
    started = true;
    const timer = setInterval(() => res.write(': heartbeat\n\n'), heartbeat * 1000);
    open.add(res);
    res.on('close', () => {
      clearInterval(timer);
      unsubscribe();
      open.delete(res);
    });
  });
}
