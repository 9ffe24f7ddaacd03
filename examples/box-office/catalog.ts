/** The hall and its programme: what a real site keeps in its own database. */

export interface Event {
  id: string;
  title: string;
  artist: string;
  date: string;
  blurb: string;
  /** Standing places in front of the stage: a pool. */
  standing: number;
  hue: number;
}

export const ROWS = ['A', 'B', 'C', 'D', 'E', 'F'];
export const SEATS_PER_ROW = 12;

export const EVENTS: Event[] = [
  { id: 'E1', title: 'Goldberg Variations', artist: 'Mira Ostrova, piano', date: '2026-12-18T20:00:00Z', standing: 40, hue: 32,
    blurb: 'Thirty variations on one aria, played without a break.' },
  { id: 'E2', title: 'Night Trains', artist: 'The Lantern Quartet', date: '2026-12-20T19:30:00Z', standing: 60, hue: 205,
    blurb: 'Strings and field recordings from the last sleeper lines of Europe.' },
  { id: 'E3', title: 'New Year Brass', artist: 'Civic Brass Ensemble', date: '2026-12-31T22:00:00Z', standing: 120, hue: 350,
    blurb: 'Fanfares until midnight, then the bells.' },
];

export function eventById(id: string): Event | undefined {
  return EVENTS.find((e) => e.id === id);
}

/** Price of a seat by row, in euros. */
export function seatPrice(row: string): number {
  return row <= 'B' ? 65 : row <= 'D' ? 45 : 30;
}

export const STANDING_PRICE = 25;

export const seatResource = (eventId: string, seat: string) => `seat:${eventId}:${seat}`;
export const poolName = (eventId: string) => `ga:${eventId}`;

/** What a hold or claim name means to a visitor. */
export function describe(name: string): { event: Event | undefined; label: string; price: number; seat?: string } {
  const [kind, eventId, seat] = name.split(':');
  const event = eventById(eventId);
  if (kind === 'seat') return { event, label: `Row ${seat[0]}, seat ${seat.slice(1)}`, price: seatPrice(seat[0]), seat };
  return { event, label: 'Standing', price: STANDING_PRICE };
}

export function isSeat(seat: string): boolean {
  const m = /^([A-Z])(\d{1,2})$/.exec(seat);
  return m !== null && ROWS.includes(m[1]) && Number(m[2]) >= 1 && Number(m[2]) <= SEATS_PER_ROW;
}
