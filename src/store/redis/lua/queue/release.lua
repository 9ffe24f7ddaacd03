-- ARGV: ticket, leaseMs, channel, id. Ends this ticket's turn (or its wait) and hands the lease on.
-- @include queue
local lease, channel, id = tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('HEXISTS', QA, ticket) == 1 then
  redis.call('LREM', Q, 1, ticket)
  redis.call('HDEL', QA, ticket)
end
if redis.call('GET', L) ~= ticket then return 0 end
redis.call('DEL', L)
local h = live_head()
if h then grant(h, channel, id, lease) end
return 1
