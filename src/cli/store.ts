import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { SessionStore } from '../store/contract.js';
import { openStore, parseRedisUrl } from '../store/open.js';
import { CliError } from './output.js';

/** How long a store may take to answer its first ping at start (Redis not answering, say). */
const STORE_START_TIMEOUT_MS = 5000;

/** The default store's folder, the one folder `serve` creates by itself. */
const DEFAULT_DIR = 'data';

/**
 * Opens the store of a URL for the command line and makes sure it answers
 * before anything is served: a SQLite file whose folder does not exist
 * (other than the default ./data/), or a Redis that does not answer within
 * STORE_START_TIMEOUT_MS, is a CliError naming the store and the reason.
 */
export async function openCheckedStore(url: string, timeoutMs = STORE_START_TIMEOUT_MS): Promise<SessionStore> {
  const what = `store ${url}`;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).split('?')[0];
    if (path && path !== ':memory:') {
      const dir = dirname(resolve(path));
      if (!existsSync(dir)) {
        if (dir !== resolve(DEFAULT_DIR)) throw new CliError(what, `the folder ${dir} does not exist (create it first)`);
      } else if (!statSync(dir).isDirectory()) {
        throw new CliError(what, `${dir} is not a folder`);
      }
    }
  }
  let store: SessionStore;
  try {
    store = await openStore(url);
  } catch (e) {
    if ((e as Error).name === 'ConfigError') throw e;
    throw new CliError(what, reason(e));
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.ping(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
  } catch (e) {
    await store.close().catch(() => {});
    // The driver's words ("Stream isn't writeable") say little; a plain connection says why (ECONNREFUSED, a timeout).
    const redis = parseRedisUrl(url);
    const tcp = redis ? await probe(redis.nodes[0], timeoutMs) : null;
    const why = tcp ?? (/enableOfflineQueue/.test(reason(e)) ? 'the connection failed or closed before an answer' : reason(e));
    throw new CliError(what, `not answering: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  return store;
}

/** The innermost message of an error and its causes (the driver's own words: ECONNREFUSED, ...). */
export function reason(e: unknown): string {
  const seen: string[] = [];
  for (let err = e as { message?: string; cause?: unknown; code?: string } | undefined; err; err = err.cause as typeof err) {
    const m = err.message || err.code;
    if (m && !seen.includes(m)) seen.push(m);
    if (seen.length > 4) break;
  }
  return seen.at(-1) ?? String(e);
}

/** Connects to HOST:PORT and hangs up: null when it connects, else why not. */
function probe(node: { host: string; port: number }, timeoutMs: number): Promise<string | null> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: node.host, port: node.port, timeout: timeoutMs });
    const done = (why: string | null) => {
      socket.destroy();
      resolvePromise(why);
    };
    socket.once('connect', () => done(null));
    socket.once('timeout', () => done(`no connection to ${node.host}:${node.port} within ${timeoutMs / 1000} s`));
    socket.once('error', (e) => done(e.message));
  });
}
