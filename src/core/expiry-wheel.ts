/**
 * Items bucketed by the second they expire in, so that collecting what is due
 * costs the number of seconds passed plus the number of items due, never the
 * number stored. Used by the memory engine.
 */
export class ExpiryWheel<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly bucketOf = new Map<T, number>();
  private cursor: number;

  constructor(now: number) {
    this.cursor = Math.floor(now / 1000);
  }

  set(item: T, expiresAt: number): void {
    const bucket = Math.max(Math.ceil(expiresAt / 1000), this.cursor);
    const old = this.bucketOf.get(item);
    if (old === bucket) return;
    if (old !== undefined) this.buckets.get(old)?.delete(item);
    let set = this.buckets.get(bucket);
    if (!set) this.buckets.set(bucket, (set = new Set()));
    set.add(item);
    this.bucketOf.set(item, bucket);
  }

  /** Items in the wheel. */
  get size(): number {
    return this.bucketOf.size;
  }

  delete(item: T): void {
    const old = this.bucketOf.get(item);
    if (old === undefined) return;
    this.buckets.get(old)?.delete(item);
    this.bucketOf.delete(item);
  }

  /** Removes and returns up to `limit` items whose bucket ended by `now`. */
  takeDue(now: number, limit: number): T[] {
    const last = Math.floor(now / 1000);
    const span = last - this.cursor + 1;
    // Walk second by second, or, after a long pause, only the buckets that exist.
    const seconds = span <= this.buckets.size
      ? Array.from({ length: Math.max(span, 0) }, (_, i) => this.cursor + i)
      : [...this.buckets.keys()].filter((b) => b <= last).sort((a, b) => a - b);
    const due: T[] = [];
    for (const b of seconds) {
      const set = this.buckets.get(b);
      if (set) {
        for (const item of set) {
          if (due.length >= limit) return due;
          set.delete(item);
          this.bucketOf.delete(item);
          due.push(item);
        }
        this.buckets.delete(b);
      }
    }
    this.cursor = Math.max(this.cursor, last);
    return due;
  }
}
