import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Lua scripts of the Redis engine, read once per process from the folder
 * `lua/` beside this module (src/store/redis/lua when run from source,
 * dist/store/redis/lua when built: `npm run build` copies the folder).
 *
 * - A script is a file `lua/<slice>/<name>.lua` (or `lua/<name>.lua`), run by
 *   its name `<slice>/<name>` (RedisConnection.run), by EVALSHA.
 * - `lua/lib/*.lua` are helpers, never run alone. A line
 *   `-- @include <name>` (alone on its line) is replaced by `lua/lib/<name>.lua`,
 *   whose own includes are resolved first; a file already included in this
 *   script is not included again. So a helper that needs another includes it
 *   at its top, and each script carries only the helpers it names: Redis
 *   builds every `local function` of a script anew on each call
 *   (test/redis-lua.test.ts fails on a helper included and not used).
 * - A script's number of keys is the highest `KEYS[n]` it (with its helpers)
 *   names; it must be called with exactly that many keys.
 */
export interface LuaScript {
  /** `<slice>/<name>`: the file's path under lua/ without `.lua`. */
  name: string;
  /** The source with every include resolved: what Redis runs. */
  lua: string;
  /** How many of its arguments are keys (KEYS[1..keys]). */
  keys: number;
}

const DIR = fileURLToPath(new URL('./lua/', import.meta.url));
const INCLUDE = /^--\s*@include\s+([\w-]+)\s*$/;

/** `source` with its `-- @include` lines resolved from `dir`/lib (each helper once: `seen` is shared by one script). */
export function resolveIncludes(source: string, dir = DIR, seen = new Set<string>()): string {
  return source.split('\n').map((line) => {
    const m = INCLUDE.exec(line);
    if (!m) return line;
    if (seen.has(m[1])) return '';
    seen.add(m[1]);
    let lib: string;
    try {
      lib = readFileSync(`${dir}/lib/${m[1]}.lua`, 'utf8');
    } catch {
      throw new Error(`redis: lua/lib/${m[1]}.lua (included as '${m[1]}') does not exist`);
    }
    return resolveIncludes(lib.replace(/\n$/, ''), dir, seen);
  }).join('\n');
}

/** The highest KEYS[n] the code names, comments aside. */
function keysOf(lua: string): number {
  let n = 0;
  for (const m of lua.replace(/--.*$/gm, '').matchAll(/KEYS\[(\d+)\]/g)) n = Math.max(n, Number(m[1]));
  return n;
}

/** Every script under `dir` (lib/ aside), includes resolved. */
export function loadScripts(dir = DIR): Map<string, LuaScript> {
  const out = new Map<string, LuaScript>();
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = file.split('\\').join('/');
    if (!path.endsWith('.lua') || path.startsWith('lib/')) continue;
    const name = path.slice(0, -'.lua'.length);
    const lua = resolveIncludes(readFileSync(`${dir}/${path}`, 'utf8'), dir);
    out.set(name, { name, lua, keys: keysOf(lua) });
  }
  return out;
}

let scripts: Map<string, LuaScript> | undefined;

/** The scripts of this installation, read on first use. */
export function engineScripts(): Map<string, LuaScript> {
  return (scripts ??= loadScripts());
}
