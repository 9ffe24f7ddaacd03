/** Milliseconds since the epoch. Engines take a clock so tests can move time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock for tests: starts at `start` and moves only when told. */
export function manualClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  const clock = (() => now) as Clock & { advance(ms: number): void; set(ms: number): void };
  clock.advance = (ms: number) => { now += ms; };
  clock.set = (ms: number) => { now = ms; };
  return clock;
}

let lastMs = NaN;
let lastIso = '';

/** ISO 8601 of a time; the last one is remembered (a request formats its next timeout up to three times). */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
