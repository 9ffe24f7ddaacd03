-- Undoes a hold_resources.lua of this group (another group of the same request
-- was refused). KEYS[1]: the group's fence. ARGV: now, session, (name, written, previous)...
-- @include group
local sid = ARGV[2]
for i = 3, #ARGV, 3 do
  local k = G .. 'h:' .. ARGV[i]
  if redis.call('HGET', k, sid) == ARGV[i + 1] then
    if ARGV[i + 2] == '' then redis.call('HDEL', k, sid) else redis.call('HSET', k, sid, ARGV[i + 2]) end
  end
end
return 1
