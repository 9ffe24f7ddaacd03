-- A suspect found alive: its holds on these names get its current expiry.
-- KEYS[1]: the group's fence. ARGV: now, session, session expiry, names...
-- @include group
-- @include hold
-- @include suspects
local sid, sx = ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local k = G .. 'h:' .. ARGV[i]
  local v = redis.call('HGET', k, sid)
  if v then
    local h = parse(v)
    fresher(h, sx)
    redis.call('HSET', k, sid, enc(h))
  end
end
return 1
