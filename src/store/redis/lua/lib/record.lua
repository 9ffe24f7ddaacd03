-- A record as stored (the value of r:<name> at its entry key, a row of a
-- transaction, an item of a cursor): kind|version|updatedAt|ttlMs|expiresAt|value,
-- kind 's' (single) or 'm' (multiple), ttlMs and expiresAt '' when none.
-- src/store/redis/codec.ts is the same codec in TypeScript (test/redis-lua.test.ts holds the two together).
local function encode_record(kind, version, updated, ttl, exp, value)
  return string.sub(kind, 1, 1) .. '|' .. version .. '|' .. updated .. '|' .. ttl .. '|' .. exp .. '|' .. value
end
-- kind ('s'|'m'), version, updatedAt, ttl, expiresAt (strings), and where the value starts
local function decode_record(enc) return string.match(enc, '^(%a)|(%d+)|(%d+)|(%d*)|(%d*)|()') end
local function version_of(enc) return tonumber(string.match(enc, '^%a|(%d+)|')) end
local function kind_of(enc) if string.sub(enc, 1, 1) == 's' then return 'single' end return 'multiple' end
-- the bytes of the value (its JSON text), core/records.ts valueBytes' measure
local function value_bytes(enc) return #enc - string.match(enc, '^%a|%d+|%d+|%d*|%d*|()') + 1 end
local function exp_of(enc) return string.match(enc, '^%a|%d+|%d+|%d*|(%d*)|') end
