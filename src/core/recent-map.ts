/**
 * A map that keeps about the `limit` most recently set entries: two
 * generations, the older dropped whole when the newer fills up. Every
 * operation is O(1); evicting the oldest entry one at a time from a single
 * Map is not (V8 walks the deleted slots at the front of its table on every
 * `keys().next()`, which made it the largest item of session creation).
 */
export class RecentMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.limit / 2) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.previous.delete(key);
    this.current.set(key, value);
  }

  delete(key: K): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
