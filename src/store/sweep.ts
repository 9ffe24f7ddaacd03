/** The most one sweep step is asked to remove at once (its `limit`). */
const MAX_SWEEP_BATCH = 1000;

/**
 * The one sweep loop: calls a sweep step of the store (UpkeepSteps) with
 * MAX_SWEEP_BATCH until a batch comes back short, handing each batch to
 * `report` as it arrives. A step answers what it removed, or how many (the
 * cursors' sweep). How many in all.
 */
export async function sweepInBatches<T>(sweep: (limit: number) => Promise<T[] | number>, report: (batch: T[]) => void = () => {}): Promise<number> {
  let total = 0;
  for (;;) {
    const got = await sweep(MAX_SWEEP_BATCH);
    const n = typeof got === 'number' ? got : got.length;
    if (typeof got !== 'number') report(got);
    total += n;
    if (n < MAX_SWEEP_BATCH) return total;
  }
}
