-- KEYS[1]: the group's fence. ARGV: now, name, capacity. {'ok', available} or {'conflict'}.
-- @include group
-- @include holders
local name, cap = ARGV[2], tonumber(ARGV[3])
local held = 0
for _, x in ipairs(holders(name)) do
  if x.h.exp > now then
    if x.h.qty == '' then return {'conflict'} end
    held = held + tonumber(x.h.qty)
  end
end
local claimed = 0
for _, v in ipairs(redis.call('HVALS', G .. 'c:' .. name)) do
  local q = string.match(v, '^%d+|(%d*)|')
  if q == '' then return {'conflict'} end
  claimed = claimed + tonumber(q)
end
redis.call('HSET', G .. 'pools', name, int(cap))
return {'ok', math.max(0, cap - held - claimed)}
