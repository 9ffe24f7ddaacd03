/**
 * The admin page (GET /admin): sign in with an admin token, then live counts,
 * sessions, holds, pools, claims and the event feed, all from /v1/admin/*.
 * A browser module; it imports nothing from the server's code.
 */
import {
  api, ApiError, apiText, forgetMissing, listOf, sample, query, token, whenUnauthorized,
  type AdminHold, type AdminSession, type Claim, type Pool, type TesseraEvent,
} from './api.js';
import { byId, clock, fillKeyed, h, liveTime, num, renderLive, shortId } from './dom.js';
import { openFeed, type FeedState } from './events.js';

const POLL_MS = 5000;
const FEED_MAX = 300;
const SESSION_PAGE = 100;
const MAX_PAGE = 1000;
const MAX_LIST = 10_000;

// ---- small pieces ------------------------------------------------------------

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
function notice(text: string, kind: 'ok' | 'error' = 'ok'): void {
  const el = byId('notice');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

function failed(what: string, e: unknown): void {
  if (e instanceof ApiError && (e.status === 401 || e.code === 'SIGNED_OUT')) return; // signing out already
  notice(`${what}: ${e instanceof Error ? e.message : String(e)}`, 'error');
}

/** A button that asks once more before it acts: first click arms it, the second (within 4 s) runs the action. */
function confirmButton(label: string, armed: string, action: () => Promise<void>): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost' }, label);
  armConfirm(b, label, armed, action);
  return b;
}

function armConfirm(b: HTMLButtonElement, label: string, armed: string, action: () => Promise<void>): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  b.addEventListener('click', async () => {
    if (b.dataset.armed !== '1') {
      b.dataset.armed = '1';
      b.textContent = armed;
      b.classList.add('armed');
      timer = setTimeout(() => { b.dataset.armed = ''; b.textContent = label; b.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(timer);
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
      b.dataset.armed = '';
      b.textContent = label;
      b.classList.remove('armed');
    }
  });
}

function unavailableRow(table: HTMLTableElement, route: string): void {
  const cols = table.tHead?.rows[0]?.cells.length ?? 1;
  table.tBodies[0].replaceChildren(h('tr', { class: 'empty-row unavailable' },
    h('td', { colspan: String(cols) }, 'Not available: this server answers 404 to ', h('code', {}, route), '.')));
}

/** Runs a loader at most once at a time; a call while it runs asks for one more run after it. */
function serial(load: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => { running = null; });
    return running;
  };
  return run;
}

function userName(u: AdminSession['user']): string | null {
  if (u === null || u === undefined) return null;
  return typeof u === 'string' ? u : u.name;
}

function holdName(x: { resource?: string; pool?: string }): string {
  return x.resource ?? x.pool ?? '?';
}

// ---- counts ------------------------------------------------------------------

let eventsSeen = 0;

/**
 * Sessions and holds come from GET /metrics (the store's own counts) where the
 * server has it, else from counting the lists (up to a cap, then "N+").
 * Claims are always counted from their list.
 */
const loadCounts = serial(async () => {
  const set = (id: string, text: string) => { byId(id).textContent = text; };
  let metrics = '';
  try {
    metrics = await apiText('/metrics');
  } catch { /* an older server, or no /metrics: count the lists */ }
  const sessionsN = sample(metrics, 'tessera_sessions');
  const holdsN = sample(metrics, 'tessera_holds');
  await Promise.all([
    sessionsN !== null ? set('count-sessions', num(sessionsN))
      : api<{ sessions: AdminSession[]; next: string | null }>('GET', `/v1/admin/sessions${query({ limit: MAX_PAGE })}`)
        .then((r) => set('count-sessions', r.next ? `${num(MAX_PAGE)}+` : num(r.sessions.length)))
        .catch(() => set('count-sessions', '–')),
    holdsN !== null ? set('count-holds', num(holdsN))
      : api<unknown>('GET', `/v1/admin/holds${query({ limit: MAX_LIST })}`)
        .then((r) => { const n = listOf(r, 'holds').length; set('count-holds', n >= MAX_LIST ? `${num(MAX_LIST)}+` : num(n)); })
        .catch(() => set('count-holds', '–')),
    api<unknown>('GET', `/v1/admin/claims${query({ limit: MAX_LIST })}`)
      .then((r) => { const n = listOf(r, 'claims').length; set('count-claims', n >= MAX_LIST ? `${num(MAX_LIST)}+` : num(n)); })
      .catch((e) => set('count-claims', e instanceof ApiError && e.unavailable ? 'n/a' : '–')),
  ]);
});

// ---- sessions ----------------------------------------------------------------

const sessions = { user: '', rows: [] as AdminSession[], next: null as string | null };

function sessionRow(s: AdminSession): HTMLTableRowElement {
  const user = userName(s.user);
  return h('tr', { 'data-session': s.id },
    h('td', {}, shortId(s.id)),
    h('td', {}, user ? h('span', { class: 'user' }, user) : h('span', { class: 'muted', title: 'No user has logged in to this session' }, 'none')),
    h('td', {}, s.client),
    h('td', { class: 'time' }, clock(s.createdAt)),
    h('td', { class: 'time' }, liveTime(s.lastAccessAt, 'ago')),
    h('td', { class: 'time' }, liveTime(s.nextTimeout, 'until')),
    h('td', { class: 'actions' }, confirmButton('End', 'Confirm end', async () => {
      try {
        await api('DELETE', `/v1/admin/sessions/${encodeURIComponent(s.id)}`);
        notice(`Ended session ${s.id.slice(0, 12)}…`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'SESSION_NOT_FOUND')) return failed('Ending the session failed', e);
        notice('That session had already ended.');
      }
      void loadSessions();
      void loadCounts();
    })));
}

function renderSessions(): void {
  fillKeyed(byId<HTMLTableElement>('sessions-table'), sessions.rows, (s) => s.id, sessionRow,
    sessions.user ? `No live session of ${sessions.user}.` : 'No live sessions.');
  byId('sessions-more').hidden = sessions.next === null;
  const n = sessions.rows.length;
  byId('sessions-summary').textContent = `${num(n)}${sessions.next ? '+' : ''} session${n === 1 ? '' : 's'}${sessions.user ? ` of ${sessions.user}` : ''}`;
  (byId('end-user') as HTMLButtonElement).disabled = sessions.user === '';
}

/** Reloads what is shown (as many rows as are shown now, at least one page). */
const loadSessions = serial(async () => {
  const user = sessions.user;
  const limit = Math.min(MAX_PAGE, Math.max(SESSION_PAGE, sessions.rows.length));
  try {
    const r = await api<{ sessions: AdminSession[]; next: string | null }>('GET', `/v1/admin/sessions${query({ user, limit })}`);
    if (user !== sessions.user) return;
    sessions.rows = r.sessions;
    sessions.next = r.next;
    renderSessions();
  } catch (e) {
    if (e instanceof ApiError && e.code === 'INVALID_REQUEST') {
      sessions.rows = [];
      sessions.next = null;
      renderSessions();
      return notice(e.message, 'error');
    }
    failed('Loading sessions failed', e);
  }
});

async function moreSessions(): Promise<void> {
  if (!sessions.next) return;
  try {
    const r = await api<{ sessions: AdminSession[]; next: string | null }>('GET',
      `/v1/admin/sessions${query({ user: sessions.user, limit: SESSION_PAGE, after: sessions.next })}`);
    sessions.rows = sessions.rows.concat(r.sessions);
    sessions.next = r.next;
    renderSessions();
  } catch (e) {
    failed('Loading more sessions failed', e);
  }
}

// ---- holds, pools, claims ----------------------------------------------------

let holdsPrefix = '';
let claimsPrefix = '';

const loadHolds = serial(async () => {
  const table = byId<HTMLTableElement>('holds-table');
  try {
    const r = await api<unknown>('GET', `/v1/admin/holds${query({ prefix: holdsPrefix, limit: 500 })}`);
    const holds = listOf<AdminHold>(r, 'holds').sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
    fillKeyed(table, holds, (x) => `${holdName(x)} ${x.sessionId}`, (x) => h('tr', { 'data-hold': holdName(x) },
      h('td', {}, h('code', { class: 'res' }, holdName(x)), x.pool ? h('span', { class: 'tag' }, 'pool') : null),
      h('td', { class: 'num' }, x.quantity ?? 1),
      h('td', {}, shortId(x.sessionId)),
      h('td', { class: 'num' }, x.token),
      h('td', { class: 'time' }, liveTime(x.expiresAt, 'until'))),
    holdsPrefix ? `No live hold starts with ${holdsPrefix}.` : 'No live holds.');
  } catch (e) {
    if (e instanceof ApiError && e.unavailable) return unavailableRow(table, 'GET /v1/admin/holds');
    failed('Loading holds failed', e);
  }
});

const loadPools = serial(async () => {
  const table = byId<HTMLTableElement>('pools-table');
  try {
    const pools = listOf<Pool>(await api<unknown>('GET', '/v1/admin/pools'), 'pools');
    fillKeyed(table, pools, (p) => p.name, (p) => {
      const used = p.held + p.claimed;
      const pct = p.capacity > 0 ? Math.round((100 * used) / p.capacity) : 0;
      return h('tr', { 'data-pool': p.name },
        h('td', {}, h('div', { class: 'pool-cell' },
          h('code', { class: 'res' }, p.name),
          h('span', { class: 'use' },
            h('meter', { min: '0', max: String(Math.max(1, p.capacity)), value: String(used), low: String(p.capacity * 0.7),
              high: String(p.capacity * 0.9), optimum: '0', title: `${num(used)} of ${num(p.capacity)} held or claimed` }),
            h('span', { class: 'pct' }, p.capacity > 0 ? `${pct}% in use` : 'no capacity')))),
        h('td', { class: 'num' }, num(p.capacity)),
        h('td', { class: 'num' }, num(p.held)),
        h('td', { class: 'num' }, num(p.claimed)),
        h('td', { class: 'num' }, num(p.free)));
    }, 'No pools. Set a capacity to create one.');
  } catch (e) {
    if (e instanceof ApiError && e.unavailable) return unavailableRow(table, 'GET /v1/admin/pools');
    failed('Loading pools failed', e);
  }
});

const loadClaims = serial(async () => {
  const table = byId<HTMLTableElement>('claims-table');
  try {
    const claims = listOf<Claim>(await api<unknown>('GET', `/v1/admin/claims${query({ prefix: claimsPrefix })}`), 'claims');
    fillKeyed(table, claims, (c) => `${holdName(c)} ${c.sessionId ?? ''}`, (c) => h('tr', { 'data-claim': holdName(c) },
      h('td', {}, h('code', { class: 'res' }, holdName(c)), c.pool ? h('span', { class: 'tag' }, 'pool') : null),
      h('td', { class: 'num' }, c.quantity ?? 1),
      h('td', {}, c.sessionId ? shortId(c.sessionId) : ''),
      h('td', { class: 'time' }, c.confirmedAt ? clock(c.confirmedAt) : ''),
      h('td', { class: 'actions' }, confirmButton(c.pool ? 'Free pool' : 'Free', c.pool ? 'Confirm: free every claim on it' : 'Confirm free', async () => {
        try {
          await api('DELETE', `/v1/admin/claims/${encodeURIComponent(holdName(c))}`);
          notice(`Freed ${holdName(c)}.`);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 'CLAIM_NOT_FOUND')) return failed('Freeing the claim failed', e);
        }
        void loadClaims();
        void loadPools();
        void loadCounts();
      }))),
    claimsPrefix ? `No claim starts with ${claimsPrefix}.` : 'No claims.');
  } catch (e) {
    if (e instanceof ApiError && e.unavailable) return unavailableRow(table, 'GET /v1/admin/claims');
    failed('Loading claims failed', e);
  }
});

// ---- the event feed ------------------------------------------------------------

let closeFeed: (() => void) | null = null;

const STATE_TEXT: Record<FeedState, string> = {
  connecting: 'Connecting…', live: 'Live', retrying: 'Reconnecting…', unavailable: 'Events not available',
  denied: 'Events refused', closed: 'Not connected',
};

function feedState(state: FeedState, detail?: string): void {
  const conn = byId('conn');
  conn.dataset.state = state;
  byId('conn-text').textContent = detail && state === 'retrying' ? detail : STATE_TEXT[state];
  conn.title = detail ?? '';
  // (Re)connected: what changed while the stream was down shows in the lists.
  if (state === 'live') refreshSoon(loadSessions, loadHolds, loadPools, loadClaims, loadCounts);
  const empty = byId('feed-empty');
  if (state === 'unavailable') {
    empty.replaceChildren('Not available: this server answers 404 to ', h('code', {}, 'GET /v1/admin/events'), '.');
    empty.classList.add('unavailable');
    byId('count-events').textContent = 'n/a';
  } else if (state === 'denied') {
    empty.textContent = `The event stream refused this token: ${detail ?? ''}`;
  }
}

function feedItem(e: TesseraEvent): HTMLLIElement {
  const category = e.type.split('.')[0];
  if (e.type === 'gap') {
    const what = e.reason === 'slow' ? `${num(e.dropped ?? 0)} events dropped: this page read too slowly`
      : 'Events missed while disconnected are older than the server keeps';
    return h('li', { class: 'feed-item cat-gap', 'data-type': 'gap' },
      h('time', { datetime: e.at, class: 'feed-time' }, clock(e.at)),
      h('span', { class: 'badge cat-gap' }, 'gap'),
      h('div', { class: 'feed-details' }, what));
  }
  const details = h('div', { class: 'feed-details' },
    e.user ? h('span', { class: 'user' }, e.user) : null,
    e.sessionId ? shortId(e.sessionId) : null,
    e.resource ? h('code', { class: 'res' }, e.resource) : null,
    e.to ? h('span', { class: 'muted' }, '→ ', shortId(e.to)) : null);
  return h('li', { class: `feed-item cat-${category}`, 'data-type': e.type },
    h('time', { datetime: e.at, class: 'feed-time' }, clock(e.at)),
    h('span', { class: `badge cat-${category}` }, e.type),
    details);
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const dirty = new Set<() => Promise<void>>();
/** Events mark what they change; the page reloads those at most every 250 ms, however many events come. */
function refreshSoon(...loads: Array<() => Promise<void>>): void {
  for (const l of loads) dirty.add(l);
  if (refreshTimer !== undefined) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    const now = [...dirty];
    dirty.clear();
    for (const l of now) void l();
  }, 250);
}

function onEvent(e: TesseraEvent): void {
  if (e.type === 'gap') refreshSoon(loadSessions, loadHolds, loadPools, loadClaims, loadCounts);
  else eventsSeen += 1;
  byId('count-events').textContent = num(eventsSeen);
  const feed = byId('feed');
  feed.prepend(feedItem(e));
  while (feed.children.length > FEED_MAX) feed.lastElementChild?.remove();
  byId('feed-empty').hidden = true;
  if (e.type.startsWith('session.') || e.type.startsWith('user.')) refreshSoon(loadSessions, loadCounts);
  if (e.type.startsWith('hold.') || e.type === 'session.ended' || e.type === 'session.expired') {
    refreshSoon(loadHolds, loadPools, loadClaims, loadCounts);
  }
}

function startFeed(): void {
  closeFeed?.();
  closeFeed = openFeed(byId<HTMLSelectElement>('feed-types').value, { event: onEvent, state: feedState });
}

// ---- signing in and out ------------------------------------------------------

let poller: ReturnType<typeof setInterval> | undefined;
let ticker: ReturnType<typeof setInterval> | undefined;

function refreshAll(): void {
  void loadCounts();
  void loadSessions();
  void loadHolds();
  void loadPools();
  void loadClaims();
}

function tick(): void {
  let expired = false;
  for (const el of document.querySelectorAll<HTMLElement>('[data-live]')) if (renderLive(el)) expired = true;
  // A hold or session just ran out: the sweep removes it within a second or so; look again then.
  if (expired) setTimeout(() => refreshSoon(loadHolds, loadPools, loadSessions, loadCounts), 1200);
}

function showApp(): void {
  byId('login').hidden = true;
  byId('app').hidden = false;
  byId('topbar-right').hidden = false;
  forgetMissing();
  eventsSeen = 0;
  byId('count-events').textContent = '0';
  refreshAll();
  startFeed();
  poller = setInterval(refreshAll, POLL_MS);
  ticker = setInterval(tick, 1000);
}

function signOut(message?: string): void {
  token.clear();
  closeFeed?.();
  closeFeed = null;
  clearInterval(poller);
  clearInterval(ticker);
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  dirty.clear();
  byId('feed').replaceChildren();
  const empty = byId('feed-empty');
  empty.textContent = 'Waiting for events…';
  empty.classList.remove('unavailable');
  empty.hidden = false;
  for (const id of ['sessions-table', 'holds-table', 'pools-table', 'claims-table']) byId<HTMLTableElement>(id).tBodies[0].replaceChildren();
  byId('app').hidden = true;
  byId('topbar-right').hidden = true;
  byId('login').hidden = false;
  const err = byId('login-error');
  err.textContent = message ?? '';
  err.hidden = !message;
  const input = byId<HTMLInputElement>('token');
  input.value = '';
  input.focus();
}

/** Checks the token against an admin route; a message when it is not accepted. */
async function check(): Promise<string | null> {
  try {
    await api('GET', `/v1/admin/sessions${query({ limit: 1 })}`);
    return null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return 'The server did not accept this token.';
    if (e instanceof ApiError && e.status === 403) return 'This client lacks the admin role.';
    return `The server could not be reached: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function wire(): void {
  let signingIn = false;
  whenUnauthorized(() => { if (!signingIn && token.get()) signOut('The server no longer accepts this token. Sign in again.'); });

  byId<HTMLFormElement>('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = byId<HTMLInputElement>('token');
    const value = input.value.trim();
    const err = byId('login-error');
    if (!value) {
      err.textContent = 'Enter a token.';
      err.hidden = false;
      return;
    }
    const button = byId<HTMLButtonElement>('login-submit');
    button.disabled = true;
    signingIn = true;
    token.set(value);
    const problem = await check();
    signingIn = false;
    button.disabled = false;
    if (problem) {
      token.clear();
      err.textContent = problem;
      err.hidden = false;
      return;
    }
    input.value = '';
    err.hidden = true;
    showApp();
  });
  byId('sign-out').addEventListener('click', () => signOut());

  byId<HTMLFormElement>('sessions-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessions.user = byId<HTMLInputElement>('sessions-user').value.trim();
    sessions.rows = [];
    sessions.next = null;
    void loadSessions();
  });
  byId('sessions-more').addEventListener('click', () => void moreSessions());
  const endUser = byId<HTMLButtonElement>('end-user');
  armConfirm(endUser, 'End all of user', 'Confirm: end all', async () => {
    const user = sessions.user;
    if (!user) return;
    try {
      const r = await api<{ ended: number }>('DELETE', `/v1/admin/sessions${query({ user })}`);
      notice(`Ended ${num(r.ended)} session${r.ended === 1 ? '' : 's'} of ${user}.`);
    } catch (e) {
      failed(`Ending the sessions of ${user} failed`, e);
    }
    void loadSessions();
    void loadCounts();
  });

  byId<HTMLFormElement>('holds-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    holdsPrefix = byId<HTMLInputElement>('holds-prefix').value.trim();
    void loadHolds();
  });
  byId<HTMLFormElement>('claims-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    claimsPrefix = byId<HTMLInputElement>('claims-prefix').value.trim();
    void loadClaims();
  });
  byId<HTMLFormElement>('pool-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = byId<HTMLInputElement>('pool-name').value.trim();
    const capacity = Number(byId<HTMLInputElement>('pool-capacity').value);
    if (!name || !Number.isSafeInteger(capacity) || capacity < 0) return notice('Give a pool name and a whole capacity, 0 or more.', 'error');
    try {
      await api('PUT', `/v1/admin/pools/${encodeURIComponent(name)}`, { capacity });
      notice(`Pool ${name}: capacity ${num(capacity)}.`);
      byId<HTMLFormElement>('pool-form').reset();
    } catch (e) {
      failed(`Setting pool ${name} failed`, e);
    }
    void loadPools();
  });

  byId('feed-types').addEventListener('change', () => startFeed());
  byId('feed-clear').addEventListener('click', () => {
    byId('feed').replaceChildren();
    byId('feed-empty').hidden = false;
  });

  if (token.get()) {
    void check().then((problem) => (problem ? signOut(problem) : showApp()));
  } else {
    byId<HTMLInputElement>('token').focus();
  }
}

wire();
