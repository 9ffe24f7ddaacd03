-- KEYS[1]: the session's hash. ARGV: now, name, key ('' = the whole record),
-- ifVersion (''). {'ok', 1|0} or {'reject', kind, version} (Node's checkDelete
-- throws). With a transaction open, checked against what the session sees and
-- written into the innermost one as a 'del' row (an entry) or a 'drop' row (the
-- whole name). The rules are core/records.ts checkDelete's; test/records-rules.test.ts
-- holds the two together.
-- @include session
-- @include fields
-- @include live
-- @include prune
-- @include depth
-- @include record
-- @include view
-- @include drop_rows
-- @include gc_key
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
prune(P, now)
local name, key, ifv = ARGV[2], ARGV[3], ARGV[4]
local rk = P .. 'r:' .. name
local depth = depth_of(P)
if depth > 0 then
  local seen = view(P, depth, name, now)[name]
  local top = P .. 'tx:' .. depth
  if key == '' then
    if not seen then return {'ok', 0} end
    local _, e = next(seen)
    if ifv ~= '' and (kind_of(e) == 'multiple' or version_of(e) ~= tonumber(ifv)) then return {'reject', kind_of(e), version_of(e)} end
    drop_rows(top, name)
    redis.call('HSET', top, name .. '\0/', 'drop')
  else
    local e = seen and seen[key]
    if not e or kind_of(e) ~= 'multiple' then return {'ok', 0} end
    if ifv ~= '' and version_of(e) ~= tonumber(ifv) then return {'reject', 'multiple', version_of(e)} end
    redis.call('HSET', top, name .. '\0' .. key, 'del')
  end
  gc_key(P, now, top)
  return {'ok', 1}
end
if key == '' then
  if redis.call('EXISTS', rk) == 0 then return {'ok', 0} end
  local single = redis.call('HGET', rk, '')
  if ifv ~= '' then
    if not single then return {'reject', 'multiple', 0} end
    if version_of(single) ~= tonumber(ifv) then return {'reject', 'single', version_of(single)} end
  end
  for _, k in ipairs(redis.call('HKEYS', rk)) do redis.call('ZREM', P .. 'rx', name .. '\0' .. k) end
  redis.call('DEL', rk)
  redis.call('HDEL', P .. 'rn', name)
  redis.call('HDEL', P .. 'rb', name)
  return {'ok', 1}
end
local cur = redis.call('HGET', rk, key)
if not cur then return {'ok', 0} end
if ifv ~= '' and version_of(cur) ~= tonumber(ifv) then return {'reject', 'multiple', version_of(cur)} end
redis.call('HDEL', rk, key)
redis.call('ZREM', P .. 'rx', name .. '\0' .. key)
if redis.call('HINCRBY', P .. 'rn', name, -1) <= 0 then redis.call('HDEL', P .. 'rn', name) end
redis.call('HDEL', P .. 'rb', name) -- counted again when needed (lib/put_record.lua)
return {'ok', 1}
