/** Server-rendered pages: template literals, every value escaped. No build step. */
import { describe, EVENTS, ROWS, SEATS_PER_ROW, seatPrice, seatResource, STANDING_PRICE, type Event } from './catalog.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => ESC[c]);

export interface Chrome {
  user: { name: string } | null;
  loggedIn: boolean;
  cartCount: number;
  flash?: { kind: 'ok' | 'warn' | 'error'; text: string } | null;
}

const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
const euros = (n: number) => `€${n}`;

export function layout(title: string, chrome: Chrome, body: string): string {
  const who = chrome.loggedIn
    ? `<span class="who">Signed in as <b>${esc(chrome.user!.name)}</b></span>
       <form method="post" action="/logout" class="inline"><button class="link" id="logout">Sign out</button></form>`
    : `<a href="/login" id="login-link">Sign in</a>`;
  const flash = chrome.flash ? `<div class="flash ${chrome.flash.kind}" role="status">${esc(chrome.flash.text)}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Tessera Hall</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><div class="bar">
  <a class="brand" href="/">Tessera <span>Hall</span></a>
  <nav><a href="/">What's on</a><a href="/cart" id="cart-link">Cart <span class="count">${chrome.cartCount}</span></a>
  <a href="/tickets">My tickets</a>${who}</nav>
</div></header>
<main>${flash}${body}</main>
<footer>A demo box office on Tessera sessions: holds, sales and logins live in Tessera, not in this site.</footer>
<script>
for (const el of document.querySelectorAll('[data-expires]')) {
  const end = Date.parse(el.dataset.expires);
  // Whole seconds left, rounded up: 'expired' only once the hold's end has passed (never while the cart can still be paid).
  const tick = () => {
    const left = end - Date.now();
    const s = Math.max(0, Math.ceil(left / 1000));
    el.textContent = s > 0 ? Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') : 'expired';
    el.classList.toggle('late', s < 60);
    if (s > 0) setTimeout(tick, (left % 1000) || 1000);
  };
  tick();
}
</script>
</body></html>`;
}

export function eventsPage(chrome: Chrome): string {
  const cards = EVENTS.map((e) => `
  <article class="card" style="--hue:${e.hue}">
    <div class="poster"><span>${esc(e.title)}</span></div>
    <div class="card-body">
      <p class="date">${esc(when(e.date))}</p>
      <h2><a href="/events/${e.id}">${esc(e.title)}</a></h2>
      <p class="artist">${esc(e.artist)}</p>
      <p>${esc(e.blurb)}</p>
      <p class="prices">Seats ${euros(30)}–${euros(65)} · Standing ${euros(STANDING_PRICE)}</p>
      <a class="button" href="/events/${e.id}">Choose seats</a>
    </div>
  </article>`).join('');
  return layout("What's on", chrome, `<h1>What's on</h1><div class="cards">${cards}</div>`);
}

export interface SeatState {
  /** seat (A1) -> 'mine' | 'held' | 'sold' */
  taken: Map<string, 'mine' | 'held' | 'sold'>;
  standingLeft: number | null;
  standingMine: number;
}

export function eventPage(chrome: Chrome, e: Event, state: SeatState): string {
  const rows = ROWS.map((row) => {
    const seats = Array.from({ length: SEATS_PER_ROW }, (_, i) => {
      const seat = `${row}${i + 1}`;
      const s = state.taken.get(seat);
      const gap = i === 5 ? ' gap' : '';
      if (s === 'mine') return `<button class="seat mine${gap}" name="release" value="${seat}" title="Yours: click to let it go" data-seat="${seat}">${i + 1}</button>`;
      if (s) return `<span class="seat ${s}${gap}" title="${s === 'sold' ? 'Sold' : 'In someone’s cart'}" data-seat="${seat}">${i + 1}</span>`;
      return `<button class="seat free${gap}" name="seat" value="${seat}" title="${row}${i + 1} · ${euros(seatPrice(row))}" data-seat="${seat}">${i + 1}</button>`;
    }).join('');
    return `<div class="row"><span class="row-name">${row}</span>${seats}<span class="row-name">${row}</span></div>`;
  }).join('');
  const left = state.standingLeft === null ? '' : ` (${state.standingLeft} left)`;
  return layout(e.title, chrome, `
<p class="crumbs"><a href="/">What's on</a> › ${esc(e.title)}</p>
<div class="event-head" style="--hue:${e.hue}"><div><h1>${esc(e.title)}</h1><p class="artist">${esc(e.artist)} · ${esc(when(e.date))}</p></div></div>
<section class="hall">
  <div class="stage">Stage</div>
  <form method="post" action="/events/${e.id}/hold" class="seatmap">${rows}</form>
  <ul class="legend"><li><span class="seat free"></span>Free</li><li><span class="seat mine"></span>In your cart</li>
  <li><span class="seat held"></span>In someone's cart</li><li><span class="seat sold"></span>Sold</li></ul>
  <p class="hint">Click a seat to hold it for you. Rows A–B ${euros(65)}, C–D ${euros(45)}, E–F ${euros(30)}.</p>
</section>
<section class="side">
  <form method="post" action="/events/${e.id}/best" class="panel">
    <h3>Best available</h3>
    <p>Seats side by side, all or none.</p>
    <label>Seats <input type="number" name="count" min="1" max="6" value="2"></label>
    <button class="button" id="best">Find seats</button>
  </form>
  <form method="post" action="/events/${e.id}/standing" class="panel">
    <h3>Standing${esc(left)}</h3>
    <p>${euros(STANDING_PRICE)} each${state.standingMine ? ` · ${state.standingMine} in your cart` : ''}</p>
    <label>Places <input type="number" name="quantity" min="1" max="8" value="1"></label>
    <button class="button" id="standing">Add standing</button>
  </form>
</section>`);
}

export interface CartLine {
  name: string;
  quantity: number;
  expiresAt: string;
}

export function cartPage(chrome: Chrome, lines: CartLine[], loggedIn: boolean): string {
  if (lines.length === 0) {
    return layout('Your cart', chrome, `<h1>Your cart</h1><p class="empty">Your cart is empty. <a href="/">Find a concert</a>.</p>`);
  }
  let total = 0;
  const rows = lines.map((l) => {
    const d = describe(l.name);
    const price = d.price * l.quantity;
    total += price;
    return `<tr data-hold="${esc(l.name)}"><td>${esc(d.event?.title ?? '')}<div class="small">${esc(d.event ? when(d.event.date) : '')}</div></td>
      <td>${esc(d.label)}${l.quantity > 1 ? ` × ${l.quantity}` : ''}</td><td>${euros(price)}</td>
      <td><span class="countdown" data-expires="${esc(l.expiresAt)}"></span></td>
      <td><form method="post" action="/cart/release" class="inline"><input type="hidden" name="name" value="${esc(l.name)}"><button class="link">Remove</button></form></td></tr>`;
  }).join('');
  const checkout = loggedIn
    ? `<form method="post" action="/checkout"><button class="button big" id="checkout">Pay ${euros(total)}</button></form>`
    : `<a class="button big" id="login-to-pay" href="/login?next=/cart">Sign in to pay ${euros(total)}</a>`;
  return layout('Your cart', chrome, `<h1>Your cart</h1>
<table class="cart"><thead><tr><th>Concert</th><th>Place</th><th>Price</th><th>Held for</th><th></th></tr></thead><tbody>${rows}</tbody>
<tfoot><tr><td colspan="2">Total</td><td>${euros(total)}</td><td colspan="2"></td></tr></tfoot></table>
<p class="hint">Seats are held for you for a few minutes; pay before the countdown ends.</p>${checkout}`);
}

export function loginPage(chrome: Chrome, next: string, error?: string): string {
  return layout('Sign in', chrome, `<div class="narrow"><h1>Sign in</h1>
${error ? `<div class="flash error">${esc(error)}</div>` : ''}
<form method="post" action="/login" class="panel">
  <input type="hidden" name="next" value="${esc(next)}">
  <label>Username <input name="username" id="username" autocomplete="username" required></label>
  <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
  <button class="button" id="sign-in">Sign in</button>
  <p class="small">Demo accounts: alice / alice-password, bob / bob-password. Your cart stays with you.</p>
</form></div>`);
}

export function expiredPage(chrome: Chrome, expired: string[]): string {
  const items = expired.map((n) => {
    const d = describe(n);
    return `<li>${esc(d.event?.title ?? n)} — ${esc(d.label)}</li>`;
  }).join('');
  return layout('Your cart expired', chrome, `<div class="narrow expired"><h1>Your cart expired</h1>
<p>We held these for you, but the time ran out and they went back on sale:</p><ul>${items}</ul>
<p>Nothing was charged. You have a fresh session; pick your seats again.</p>
<a class="button" href="/">Back to what's on</a></div>`);
}

export function ticketsPage(chrome: Chrome, claims: { name: string; quantity: number; token: number; confirmedAt: string }[]): string {
  if (claims.length === 0) return layout('My tickets', chrome, `<h1>My tickets</h1><p class="empty">No tickets in this session yet.</p>`);
  const cards = claims.map((c) => {
    const d = describe(c.name);
    return `<div class="ticket" style="--hue:${d.event?.hue ?? 0}" data-ticket="${esc(c.name)}"><div class="stub">${esc(d.event?.id ?? '')}<b>${esc(d.seat ?? 'GA')}</b>№ ${c.token}</div>
      <div><h3>${esc(d.event?.title ?? '')}</h3><p>${esc(d.event ? when(d.event.date) : '')}</p><p><b>${esc(d.label)}${c.quantity > 1 ? ` × ${c.quantity}` : ''}</b></p></div></div>`;
  }).join('');
  return layout('My tickets', chrome, `<h1>My tickets</h1><div class="tickets">${cards}</div>`);
}

export function errorPage(chrome: Chrome, status: number, text: string): string {
  return layout('Sorry', chrome, `<div class="narrow"><h1>${status === 403 ? 'Not for you' : 'Something went wrong'}</h1><p>${esc(text)}</p><a href="/">Home</a></div>`);
}

export { seatResource };

export const CSS = `
:root { --ink:#1d1b22; --paper:#faf7f2; --accent:#b3261e; --muted:#6b6570; --line:#e4ddd3; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 Georgia, 'Iowan Old Style', serif; color:var(--ink); background:var(--paper); }
a { color: var(--accent); }
header { background:#16131c; color:#fff; }
.bar { max-width:1080px; margin:0 auto; display:flex; align-items:center; justify-content:space-between; padding:14px 20px; }
.brand { color:#fff; text-decoration:none; font-size:22px; letter-spacing:.04em; }
.brand span { color:#f0b35a; font-style:italic; }
nav { display:flex; gap:18px; align-items:center; font-family: system-ui, sans-serif; font-size:15px; }
nav a { color:#eee; text-decoration:none; } nav a:hover { color:#f0b35a; }
.count { background:#f0b35a; color:#16131c; border-radius:10px; padding:0 7px; font-weight:700; font-size:13px; }
.who { color:#bbb; } .inline { display:inline; margin:0; }
button.link { background:none; border:0; color:#eee; cursor:pointer; font:inherit; padding:0; text-decoration:underline; }
main { max-width:1080px; margin:0 auto; padding:24px 20px 60px; }
h1 { font-weight:400; font-size:34px; margin:8px 0 20px; }
footer { text-align:center; color:var(--muted); font: 13px system-ui, sans-serif; padding:20px; border-top:1px solid var(--line); }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(300px,1fr)); gap:22px; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; overflow:hidden; box-shadow:0 2px 8px rgba(0,0,0,.05); }
.poster { height:120px; background:linear-gradient(135deg,hsl(var(--hue) 60% 35%),hsl(calc(var(--hue) + 40) 55% 18%)); display:flex; align-items:flex-end; padding:14px; }
.poster span { color:#fff; font-size:24px; font-style:italic; opacity:.9; }
.card-body { padding:16px 18px 20px; } .card h2 { margin:0; font-weight:400; } .card h2 a { color:var(--ink); text-decoration:none; }
.date { font: 600 13px system-ui, sans-serif; text-transform:uppercase; letter-spacing:.06em; color:hsl(var(--hue) 60% 35%); margin:0 0 4px; }
.artist { color:var(--muted); margin:0 0 8px; } .prices { font: 14px system-ui, sans-serif; color:var(--muted); }
.button { display:inline-block; background:var(--accent); color:#fff; border:0; border-radius:6px; padding:9px 16px; font: 600 15px system-ui, sans-serif; text-decoration:none; cursor:pointer; }
.button:hover { filter:brightness(1.1); } .button.big { font-size:18px; padding:12px 26px; margin-top:10px; }
.crumbs { font: 14px system-ui, sans-serif; color:var(--muted); margin:0; }
.event-head { border-left:6px solid hsl(var(--hue) 60% 40%); padding-left:16px; margin:10px 0 20px; } .event-head h1 { margin:0; }
.hall { display:inline-block; vertical-align:top; background:#fff; border:1px solid var(--line); border-radius:10px; padding:20px 24px; margin-right:20px; }
.stage { background:#2b2533; color:#f0b35a; text-align:center; border-radius:0 0 60% 60% / 0 0 30px 30px; padding:6px; margin-bottom:22px; font: 600 13px system-ui, sans-serif; letter-spacing:.3em; text-transform:uppercase; }
.seatmap { margin:0; } .row { display:flex; align-items:center; gap:5px; margin:5px 0; }
.row-name { width:18px; text-align:center; font: 600 12px system-ui, sans-serif; color:var(--muted); }
.seat { width:30px; height:28px; border-radius:7px 7px 4px 4px; border:0; font: 11px system-ui, sans-serif; display:inline-flex; align-items:center; justify-content:center; }
.seat.gap { margin-right:16px; }
.seat.free { background:#d8ecd9; color:#245c2a; cursor:pointer; } .seat.free:hover { background:#2f8f3a; color:#fff; }
.seat.mine { background:#f0b35a; color:#3b2600; cursor:pointer; font-weight:700; }
.seat.held { background:#e9e3ec; color:#a99fae; } .seat.sold { background:#cbc3cf; color:#fff; }
.legend { list-style:none; display:flex; gap:16px; padding:0; font: 13px system-ui, sans-serif; color:var(--muted); }
.legend .seat { width:16px; height:14px; margin-right:6px; vertical-align:middle; }
.hint { font: 14px system-ui, sans-serif; color:var(--muted); }
.side { display:inline-flex; flex-direction:column; gap:16px; vertical-align:top; width:260px; }
.panel { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
.panel h3 { margin:0 0 4px; font-weight:400; font-size:20px; } .panel p { margin:0 0 10px; color:var(--muted); font-size:14px; }
label { display:block; font: 14px system-ui, sans-serif; margin-bottom:10px; }
input { font:inherit; padding:7px 9px; border:1px solid #cfc6bb; border-radius:6px; width:100%; margin-top:4px; }
input[type=number] { width:80px; }
.flash { padding:12px 16px; border-radius:8px; margin-bottom:18px; font: 15px system-ui, sans-serif; }
.flash.ok { background:#e3f3e5; color:#1f5b27; } .flash.warn { background:#fff1d6; color:#704a00; } .flash.error { background:#fbe3e1; color:#8a1c14; }
table.cart { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:10px; font: 15px system-ui, sans-serif; }
.cart th, .cart td { text-align:left; padding:12px 14px; border-bottom:1px solid var(--line); } .cart th { color:var(--muted); font-weight:600; font-size:13px; text-transform:uppercase; }
.cart tfoot td { font-weight:700; border:0; } .small { font-size:12px; color:var(--muted); }
.cart button.link, .panel button.link { color:var(--accent); }
.countdown { font-variant-numeric: tabular-nums; font-weight:700; color:#2f6f3a; } .countdown.late { color:var(--accent); }
.narrow { max-width:440px; } .empty { color:var(--muted); }
.expired h1 { color:var(--accent); }
.tickets { display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:16px; }
.ticket { display:flex; background:#fff; border:1px solid var(--line); border-radius:10px; overflow:hidden; }
.ticket .stub { background:hsl(var(--hue) 55% 32%); color:#fff; width:92px; display:flex; flex-direction:column; align-items:center; justify-content:center; font: 600 12px system-ui, sans-serif; border-right:2px dashed #fff; text-align:center; }
.ticket .stub b { font-size:20px; }
.ticket > div:last-child { padding:12px 16px; } .ticket h3 { margin:0; font-weight:400; } .ticket p { margin:2px 0; font: 14px system-ui, sans-serif; color:var(--muted); }
`;
