/**
 * Content negotiation (RFC 9110, section 12.5.1): which of the media types a
 * route offers the Accept header prefers, by q-value, then by how specific
 * the matching range is; on a tie the caller's preference order decides.
 */

interface Range {
  type: string;
  subtype: string;
  q: number;
  /** The position in the header (earlier wins nothing by itself; kept for stable sorting). */
  index: number;
}

const MAX_RANGES = 64;

/** The ranges of an Accept header; null when it is absent or empty (anything is acceptable). */
function parseAccept(header: string | undefined): Range[] | null {
  if (header === undefined || header.trim() === '') return null;
  const ranges: Range[] = [];
  for (const part of header.split(',').slice(0, MAX_RANGES)) {
    const [media, ...params] = part.split(';').map((s) => s.trim());
    const m = /^([\w.+*!#$%&'^`|~-]+)\/([\w.+*!#$%&'^`|~-]+)$/.exec(media ?? '');
    if (!m) continue; // a malformed range matches nothing
    let q = 1;
    for (const p of params) {
      const qm = /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(p);
      if (qm) q = Math.min(1, Number(qm[1]));
    }
    ranges.push({ type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), q, index: ranges.length });
  }
  return ranges;
}

/**
 * The offered type the client prefers, or null when it accepts none of them.
 * `offers` in the server's order of preference (the first wins a tie).
 */
export function negotiate(header: string | undefined, offers: readonly string[]): string | null {
  const ranges = parseAccept(header);
  if (ranges === null) return offers[0] ?? null;
  let best: { offer: string; q: number; specificity: number; order: number } | null = null;
  offers.forEach((offer, order) => {
    const [type, subtype] = offer.toLowerCase().split('/');
    // The most specific range matching this offer decides its q.
    let match: { q: number; specificity: number } | null = null;
    for (const r of ranges) {
      const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
      if (specificity < 0) continue;
      if (!match || specificity > match.specificity) match = { q: r.q, specificity };
    }
    if (!match || match.q <= 0) return;
    if (!best || match.q > best.q) best = { offer, q: match.q, specificity: match.specificity, order };
  });
  return (best as { offer: string } | null)?.offer ?? null;
}
