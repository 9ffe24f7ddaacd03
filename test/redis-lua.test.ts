/**
 * The Redis engine's Lua files (src/store/redis/lua/, loaded by lua.ts):
 * the include mechanism, that every script named in the engine exists and
 * every script file is used, and that the Lua and TypeScript halves of the
 * record codec (lua/lib/record.lua, codec.ts) write and read the same strings.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { StoredRecord } from '../src/core/records.js';
import { decodeHold, decodeRecord, encodeRecord } from '../src/store/redis/codec.js';
import { loadScripts, resolveIncludes } from '../src/store/redis/lua.js';
import { startRedis } from './helpers/redis.js';

const SRC = new URL('../src/store/redis/', import.meta.url).pathname;

describe('the Lua loader', () => {
  it('resolves includes depth first, each helper once per script, and counts the keys a script names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-lua-'));
    try {
      mkdirSync(join(dir, 'lib'));
      mkdirSync(join(dir, 'part'));
      writeFileSync(join(dir, 'lib', 'a.lua'), 'local function a() return 1 end\n');
      writeFileSync(join(dir, 'lib', 'b.lua'), '-- @include a\nlocal function b() return a() + KEYS[2] end\n');
      writeFileSync(join(dir, 'part', 'x.lua'), '-- KEYS[9] in a comment does not count\n-- @include b\n-- @include a\nreturn b()\n');
      const scripts = loadScripts(dir);
      assert.deepEqual([...scripts.keys()], ['part/x']);
      const x = scripts.get('part/x')!;
      assert.equal(x.keys, 2);
      assert.equal(x.lua, '-- KEYS[9] in a comment does not count\nlocal function a() return 1 end\nlocal function b() return a() + KEYS[2] end\n\nreturn b()\n');
      assert.throws(() => resolveIncludes('-- @include nowhere\n', dir), /lua\/lib\/nowhere\.lua/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every script the engine runs is a file, and every file is run by the engine', () => {
    const scripts = loadScripts();
    // Every script is named whole where it is run: r.run('holds/confirm', ...), group('holds/confirm', ...).
    const named = new Set<string>();
    for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(SRC, file), 'utf8').matchAll(/'([a-z]+\/[a-z_]+|unindex)'/g)) named.add(m[1]);
    }
    const missing = [...named].filter((n) => !scripts.has(n));
    assert.deepEqual(missing, [], 'named in src/store/redis/*.ts but no such file');
    const unused = [...scripts.keys()].filter((n) => !named.has(n));
    assert.deepEqual(unused, [], 'a script file nothing runs');
    for (const s of scripts.values()) {
      assert.doesNotMatch(s.lua, /@include/, `${s.name}: every include resolved`);
      const defined = [...s.lua.matchAll(/^local function (\w+)/gm)].map((m) => m[1]);
      assert.deepEqual(defined.filter((f, i) => defined.indexOf(f) !== i), [], `${s.name}: a function defined twice (a helper copied into the script?)`);
    }
  });
  it('a script includes only helpers it uses (Redis builds each of its functions on every call)', () => {
    const code = (t: string) => t.replace(/--.*$/gm, '').replace(/'[^'\n]*'/g, "''");
    const uses = (t: string, name: string) => t.match(new RegExp(`(?<![\\w.])${name}(?!\\w)`, 'g'))?.length ?? 0;
    const libs = readdirSync(join(SRC, 'lua', 'lib')).map((f) => {
      const text = code(readFileSync(join(SRC, 'lua', 'lib', f), 'utf8'));
      return { name: f, text, defs: [...text.matchAll(/^local (?:function )?(\w+)/gm)].map((m) => m[1]) };
    });
    for (const s of loadScripts().values()) {
      const lua = code(s.lua);
      for (const lib of libs) {
        if (!lua.includes(lib.text.trim())) continue; // not included
        // something outside the helper itself names one of its definitions
        assert.ok(lib.defs.some((d) => uses(lua, d) > uses(lib.text, d)), `${s.name} includes lib/${lib.name} and uses none of it`);
      }
    }
  });
});

describe('the record codec, Lua and TypeScript', async () => {
  const server = await startRedis();
  const redis = new Redis({ host: '127.0.0.1', port: server.port });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });
  const lua = (code: string) => resolveIncludes(`-- @include clock\n-- @include record\n-- @include hold\n${code}`);
  const decode = lua(`
local kind, v, at, ttl, exp, rest = decode_record(ARGV[1])
return {kind, v, at, ttl, exp, string.sub(ARGV[1], rest), tostring(version_of(ARGV[1])), kind_of(ARGV[1]), exp_of(ARGV[1])}
`);
  const encode = lua(`return encode_record(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])`);

  const recordArb: fc.Arbitrary<StoredRecord> = fc.record({
    name: fc.constant('n'),
    key: fc.constant(null),
    kind: fc.constantFrom('single' as const, 'multiple' as const),
    // JSON text, with the codec's own separators in it
    value: fc.oneof(fc.json(), fc.constantFrom('"a|b|c"', '"|||"', '"\\u0000"', '""', '"é😀"')),
    version: fc.integer({ min: 1, max: 2 ** 31 }),
    updatedAt: fc.integer({ min: 0, max: 2 ** 45 }),
    ttlMs: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: null }),
    expiresAt: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: null }),
  });

  it('Lua reads what TypeScript writes, and writes what TypeScript reads, byte for byte', async () => {
    await fc.assert(fc.asyncProperty(recordArb, async (rec) => {
      const enc = encodeRecord(rec);
      const [kind, v, at, ttl, exp, value, version, kindName, expOf] = await redis.eval(decode, 0, enc) as string[];
      assert.deepEqual([kind, Number(v), Number(at), ttl, exp, value], [rec.kind[0], rec.version, rec.updatedAt, String(rec.ttlMs ?? ''), String(rec.expiresAt ?? ''), rec.value]);
      assert.deepEqual([Number(version), kindName, expOf], [rec.version, rec.kind, String(rec.expiresAt ?? '')]);
      const back = await redis.eval(encode, 0, rec.kind, rec.version, rec.updatedAt, rec.ttlMs ?? '', rec.expiresAt ?? '', rec.value) as string;
      assert.equal(back, enc);
      assert.deepEqual(decodeRecord('n', '', back), { ...rec });
    }), { numRuns: 300 });
  });

  it('TypeScript reads the holds Lua writes', async () => {
    const write = lua(`return enc({ token = tonumber(ARGV[1]), exp = tonumber(ARGV[2]), qty = ARGV[3], ann = ARGV[4], sx = ARGV[5] })`);
    for (const [token, exp, qty] of [[7, 1_800_000_000_000, ''], [1, 5, '3']] as const) {
      const v = await redis.eval(write, 0, token, exp, qty, '0', '') as string;
      assert.deepEqual(decodeHold('seat:A1', 's1', v), { name: 'seat:A1', sessionId: 's1', token, expiresAt: exp, quantity: qty === '' ? null : Number(qty) });
    }
  });
});
