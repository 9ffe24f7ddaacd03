-- Undoes a confirm.lua of this group (another group of the same sale failed).
-- KEYS[1]: the group's fence. ARGV: now, session, margin, (name, claim, hold, previousClaim)...
-- @include group
-- @include hold
-- @include keep
local sid, margin = ARGV[2], tonumber(ARGV[3])
for i = 4, #ARGV, 4 do
  local name, claim, hold, prev = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ck = G .. 'c:' .. name
  if redis.call('HGET', ck, sid) == claim then
    if prev == '' then redis.call('HDEL', ck, sid) else redis.call('HSET', ck, sid, prev) end
    local k = G .. 'h:' .. name
    redis.call('HSET', k, sid, hold)
    keep(k, parse(hold).exp, margin)
  end
end
return 1
