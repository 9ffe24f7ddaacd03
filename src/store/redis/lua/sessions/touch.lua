-- KEYS[1]: the session's hash. ARGV: now, margin. Records an access without a
-- key (a portal's keep-alive): the session's fields, or nil.
-- @include session
-- @include fields
-- @include live
-- @include gc
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) then return nil end
local nxt = math.min(now + tonumber(f[4]) * 1000, tonumber(f[6]) + tonumber(f[5]) * 1000)
redis.call('HSET', s, 'last', int(now), 'next', int(nxt))
f[7] = int(now)
f[8] = int(nxt)
gc(P, now, nxt, tonumber(ARGV[2]), false)
return f
