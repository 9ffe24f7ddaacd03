import type { Tessera } from '../service/tessera.js';
import type { Client } from '../service/context.js';
import { TesseraClient } from '../client/index.js';
import type { CreateSessionOptions, Credentials, SessionApi } from '../client/types.js';
import { InProcessSession } from './in-process.js';

/** Where Tessera is: in this process, or a server (a URL and a token). */
export interface BackendOptions {
  /** In-process mode: a Tessera instance in this process (e.g. on SQLite). */
  tessera?: Tessera;
  /** In-process mode: the API client the site acts as. @default { id: 'site', roles: ['app'] } */
  client?: Client;
  /** HTTP mode: a Tessera server's URL (and `token`, an API client's token). */
  url?: string;
  token?: string;
  /** HTTP mode: a fetch of your own. */
  fetch?: typeof fetch;
  /** HTTP mode: the server's grace window in seconds (for retries after a lost answer). @default 10 */
  graceWindow?: number;
}

/** Sessions the same way in either mode: the middleware and the express-session store run over this. */
export interface Backend {
  open(credentials: Credentials): SessionApi;
  create(body: CreateSessionOptions): Promise<SessionApi>;
  /** The anonymous user's name when known (in-process: from the config). */
  anonymousName?: string;
}

export function backendOf(options: BackendOptions, what: string): Backend {
  if ((options.tessera === undefined) === (options.url === undefined)) {
    throw new TypeError(`${what}: give either \`tessera\` (in-process) or \`url\` (a Tessera server), not both or neither.`);
  }
  if (options.tessera) {
    const t = options.tessera;
    const client = options.client ?? { id: 'site', roles: ['app'] as const };
    return {
      open: (c) => new InProcessSession(t, client, c),
      create: (body) => InProcessSession.create(t, client, body),
      anonymousName: t.config.anonymousUser.name,
    };
  }
  const http = new TesseraClient({ url: options.url!, token: options.token, fetch: options.fetch, graceWindow: options.graceWindow });
  return { open: (c) => http.session(c), create: (body) => http.createSession(body) };
}
