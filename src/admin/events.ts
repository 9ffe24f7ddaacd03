/**
 * GET /v1/admin/events read with fetch streaming (EventSource cannot send a
 * bearer token). Parses Server-Sent Events as the HTML standard says, and
 * reconnects with Last-Event-ID after a drop, waiting longer each time.
 */
import { authHeaders, errorOf, type TesseraEvent } from './api.js';

export type FeedState = 'connecting' | 'live' | 'retrying' | 'unavailable' | 'denied' | 'closed';

export interface FeedHandlers {
  event(e: TesseraEvent, id: string | null): void;
  state(s: FeedState, detail?: string): void;
}

export interface SseMessage { event: string; data: string; id: string | null }

/** Splits a stream of text into SSE messages; comments (heartbeats) are skipped. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | null = null;
  lastId: string | null = null;
  retry: number | null = null;

  push(chunk: string, dispatch: (m: SseMessage) => void): void {
    this.buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) return;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, dispatch);
    }
  }

  private line(line: string, dispatch: (m: SseMessage) => void): void {
    if (line === '') {
      if (this.id !== null) this.lastId = this.id;
      if (this.data.length > 0) dispatch({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
      this.event = '';
      this.data = [];
      this.id = null;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/** Opens the feed; returns a function that closes it for good. */
export function openFeed(types: string, handlers: FeedHandlers): () => void {
  const controller = new AbortController();
  let lastId: string | null = null;
  let failures = 0;
  let closed = false;

  const run = async (): Promise<void> => {
    while (!closed) {
      handlers.state('connecting');
      const parser = new SseParser();
      try {
        // JSON as the second choice: errors (and a server without the route) answer in JSON, not 406.
        const headers = authHeaders({ accept: 'text/event-stream, application/json;q=0.5' });
        if (lastId !== null) headers['last-event-id'] = lastId;
        const res = await fetch(`/v1/admin/events${types ? `?types=${encodeURIComponent(types)}` : ''}`,
          { headers, cache: 'no-store', signal: controller.signal });
        if (!res.ok) {
          const e = await errorOf(res);
          if (e.unavailable) return handlers.state('unavailable', 'This server has no event stream.');
          if (e.status === 401 || e.status === 403) return handlers.state('denied', e.message);
          throw e;
        }
        if (!res.body) throw new Error('no body');
        handlers.state('live');
        failures = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value, (m) => {
            if (m.id !== null) lastId = m.id;
            let data: TesseraEvent;
            try {
              data = JSON.parse(m.data) as TesseraEvent;
            } catch {
              return;
            }
            if (!data.type) data.type = m.event;
            handlers.event(data, m.id);
          });
        }
      } catch (e) {
        if (closed || (e as Error).name === 'AbortError') return;
      }
      if (closed) return;
      failures += 1;
      const wait = parser.retry ?? Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
      handlers.state('retrying', `Reconnecting in ${Math.round(wait / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  void run();
  return () => {
    closed = true;
    controller.abort();
    handlers.state('closed');
  };
}
