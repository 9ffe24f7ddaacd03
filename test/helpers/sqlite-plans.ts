import Database from 'better-sqlite3';

/**
 * Records every SQL text the code under test prepares, by wrapping
 * better-sqlite3's `prepare` while `during` runs. Plan tests then ask SQLite
 * to plan the store's own statements, not a copy of them in the test.
 */
export async function preparedDuring(during: () => Promise<void>): Promise<string[]> {
  const seen = new Set<string>();
  const proto = Database.prototype as unknown as { prepare: (source: string) => unknown };
  const original = proto.prepare;
  proto.prepare = function (this: unknown, source: string) {
    seen.add(source);
    return original.call(this, source);
  };
  try {
    await during();
  } finally {
    proto.prepare = original;
  }
  return [...seen];
}

/** The query plan of `source` in the database at `path`, every parameter bound to 0 (or '' when named). */
export function planOf(path: string, source: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const stmt = db.prepare(`EXPLAIN QUERY PLAN ${source}`);
    const named = [...source.matchAll(/[@:$](\w+)/g)].map((m) => m[1]);
    const positional = (source.match(/\?/g) ?? []).length;
    const args: unknown[] = named.length ? [Object.fromEntries(named.map((n) => [n, '']))] : Array(positional).fill(0);
    return (stmt.all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
  } finally {
    db.close();
  }
}
