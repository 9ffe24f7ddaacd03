/** Small DOM and formatting helpers: elements are built with textContent only, never from HTML strings. */

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** Replaces a table body's rows; an empty list shows one muted row saying so. */
export function fillTable(table: HTMLTableElement, rows: HTMLTableRowElement[], empty: string): void {
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const cols = table.tHead?.rows[0]?.cells.length ?? 1;
    body.replaceChildren(h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols) }, empty)));
  } else {
    body.replaceChildren(...rows);
  }
}

/**
 * Shows a list as table rows, keyed: a row whose item did not change is kept as
 * it is (an armed button stays armed through a refresh), and when nothing
 * changed the table is not touched at all.
 */
export function fillKeyed<T>(table: HTMLTableElement, items: T[], key: (x: T) => string, build: (x: T) => HTMLTableRowElement, empty: string): void {
  const body = table.tBodies[0];
  const old = new Map<string, HTMLTableRowElement>();
  for (const r of Array.from(body.rows)) if (r.dataset.key) old.set(r.dataset.key, r);
  const rows = items.map((x) => {
    const k = key(x);
    const sig = JSON.stringify(x);
    const kept = old.get(k);
    if (kept && kept.dataset.sig === sig) return kept;
    const r = build(x);
    r.dataset.key = k;
    r.dataset.sig = sig;
    return r;
  });
  const current = Array.from(body.rows);
  if (rows.length > 0 && rows.length === current.length && rows.every((r, i) => r === current[i])) return;
  fillTable(table, rows, empty);
}

const nf = new Intl.NumberFormat('en');
export const num = (n: number): string => nf.format(n);

/** "2h 05m", "4m 07s", "9s": a span of time, to the second. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** A countdown to an RFC 3339 time: "in 4m 07s", or "expired". */
export function until(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  return ms > 0 ? `in ${span(ms)}` : 'expired';
}

/** Time since an RFC 3339 time: "12s ago". */
export function ago(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  return ms < 1000 ? 'just now' : `${span(ms)} ago`;
}

/** Local date and time to the second, as an operator reads it. */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString('en-GB', { hour12: false });
  return today ? time : `${d.toLocaleDateString('en-CA')} ${time}`;
}

/** A session id shortened for a table cell (the full id in the title). */
export function shortId(id: string): HTMLElement {
  return h('code', { class: 'id', title: id }, id.length > 14 ? `${id.slice(0, 12)}…` : id);
}

/**
 * A live time: the ticker rewrites it every second. `kind` "until" counts down
 * to the time, "ago" counts up from it.
 */
export function liveTime(iso: string, kind: 'until' | 'ago'): HTMLElement {
  const el = h('time', { datetime: iso, 'data-live': kind, title: new Date(iso).toLocaleString('en-GB') });
  renderLive(el);
  return el;
}

/** Rewrites one live time; returns true when a countdown has just reached zero. */
export function renderLive(el: HTMLElement): boolean {
  const iso = el.getAttribute('datetime') ?? '';
  if (el.dataset.live === 'ago') {
    el.textContent = ago(iso);
    return false;
  }
  const text = until(iso);
  const was = el.textContent;
  el.textContent = text;
  const ms = Date.parse(iso) - Date.now();
  el.classList.toggle('soon', ms > 0 && ms <= 60_000);
  el.classList.toggle('expired', ms <= 0);
  return text === 'expired' && was !== 'expired';
}
