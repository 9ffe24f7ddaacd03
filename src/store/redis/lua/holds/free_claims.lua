-- KEYS[1]: the group's fence. ARGV: now, name. How many claims were freed.
-- @include group
local k = G .. 'c:' .. ARGV[2]
local n = redis.call('HLEN', k)
redis.call('DEL', k)
return n
