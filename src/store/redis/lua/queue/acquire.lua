-- ARGV: ticket, leaseMs, aliveMs, channel, id. 1: the turn is this ticket's; 0: it waits in line.
-- @include queue
local lease, alive, channel, id = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local holder = redis.call('GET', L)
if holder == ticket then return 1 end
if not holder then
  local h = live_head()
  if not h or h == ticket then
    if h then redis.call('LPOP', Q) redis.call('HDEL', QA, h) end
    redis.call('SET', L, ticket, 'PX', lease)
    return 1
  end
  grant(h, channel, id, lease)
end
if redis.call('HEXISTS', QA, ticket) == 0 then redis.call('RPUSH', Q, ticket) end
redis.call('HSET', QA, ticket, now + alive)
redis.call('PEXPIRE', Q, lease + alive)
redis.call('PEXPIRE', QA, lease + alive)
redis.call('PUBLISH', channel, id .. ' -')
return 0
