-- KEYS[1]: the session's hash. ARGV: now, user name, user JSON, epoch.
-- A role change on a live session of that user, marked pending.
-- @include session
-- @include fields
-- @include live
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) or redis.call('HGET', s, 'un') ~= ARGV[2] then return 0 end
redis.call('HSET', s, 'user', ARGV[3], 'pend', ARGV[3], 'pn', ARGV[2], 'pe', ARGV[4])
return 1
