-- KEYS[1]: the session's hash. ARGV: now. Restarts the expiry clock of every live
-- record with a ttl, and of every such entry buffered in a transaction.
-- @include session
-- @include fields
-- @include live
-- @include prune
-- @include depth
-- @include split0
-- @include record
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
prune(P, now)
for d = 1, depth_of(P) do
  local k = P .. 'tx:' .. d
  local rows = redis.call('HGETALL', k)
  for i = 1, #rows, 2 do
    local e = rows[i + 1]
    if e ~= 'del' and e ~= 'drop' then
      local kind, v, at, ttl, exp, rest = decode_record(e)
      if ttl ~= '' and tonumber(exp) > now then
        redis.call('HSET', k, rows[i], encode_record(kind, v, at, ttl, int(now + tonumber(ttl)), string.sub(e, rest)))
      end
    end
  end
end
for _, m in ipairs(redis.call('ZRANGE', P .. 'rx', 0, -1)) do
  local name, key = split0(m)
  local rk = P .. 'r:' .. name
  local enc = redis.call('HGET', rk, key)
  if enc then
    local kind, v, at, ttl, _, rest = decode_record(enc)
    local exp = int(now + tonumber(ttl))
    redis.call('HSET', rk, key, encode_record(kind, v, at, ttl, exp, string.sub(enc, rest)))
    redis.call('ZADD', P .. 'rx', exp, m)
  end
end
return {'ok'}
