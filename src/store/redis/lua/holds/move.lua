-- Transfer within one group. KEYS[1]: the group's fence. ARGV: now, old session,
-- new session, count of hold names, names..., claim names...
-- @include group
local old, new, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
for i = 5, #ARGV do
  local k
  if i < 5 + n then k = G .. 'h:' .. ARGV[i] else k = G .. 'c:' .. ARGV[i] end
  local v = redis.call('HGET', k, old)
  if v then
    redis.call('HDEL', k, old)
    redis.call('HSET', k, new, v)
  end
end
return 1
