/** A client of GET /v1/admin/events over real HTTP (fetch streaming, as the admin page reads it). */
export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

export interface SseClient {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Everything received, as text (to look for what must never be there). */
  raw(): string;
  /** Comments received (heartbeats). */
  comments: string[];
  /** Resolves once `pred` holds over the events received (rejects after `timeoutMs`). */
  until(pred: (events: SseEvent[]) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent[]>;
  close(): void;
}

export async function openEvents(url: string, token: string, options: { types?: string; lastEventId?: string } = {}): Promise<SseClient> {
  const abort = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(`${url}/v1/admin/events${options.types ? `?types=${encodeURIComponent(options.types)}` : ''}`, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let text = '';
  let buffer = '';
  const waiters = new Set<() => void>();
  if (res.ok && res.body) {
    (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          const s = decoder.decode(chunk, { stream: true });
          text += s;
          buffer += s;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const e: Partial<SseEvent> & { lines: string[] } = { lines: [] };
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('data: ')) e.lines.push(line.slice(6));
            }
            if (e.event) events.push({ id: e.id, event: e.event, data: JSON.parse(e.lines.join('\n')) });
          }
          for (const w of waiters) w();
        }
      } catch { /* aborted */ }
    })();
  }
  return {
    status: res.status, headers: res.headers, events, comments, raw: () => text,
    until(pred, timeoutMs = 15_000, what = 'events') {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(events)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(events);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => [e.event, e.data.resource ?? e.data.sessionId]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}
