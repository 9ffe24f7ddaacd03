-- KEYS[1]: the session's hash. ARGV: now, cursor id, count ('' = its page size).
-- {name, position, total, items...} moving position and deadline, or nil.
-- @include cursor
-- @include append
local c = ARGV[2]
local h = live_cursor(c)
if not h then return nil end
local count = tonumber(ARGV[3]) or tonumber(h[1])
local pos, total = tonumber(h[3]), tonumber(h[2])
local items = {}
if pos < total then items = redis.call('LRANGE', P .. 'ci:' .. c, pos, pos + count - 1) end
pos = pos + #items
local deadline = now + tonumber(h[4])
redis.call('HSET', P .. 'cu:' .. c, 'pos', pos, 'dl', int(deadline))
redis.call('ZADD', CS, int(deadline), c)
return append({h[6], pos, total}, items)
