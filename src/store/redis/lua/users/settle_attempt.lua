-- KEYS: log. ARGV: now, at. Takes one attempt logged at `at` back out.
-- @include clock
local now = clock(ARGV[1])
local m = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2], 'LIMIT', 0, 1)
if m[1] then redis.call('ZREM', KEYS[1], m[1]) end
return 1
