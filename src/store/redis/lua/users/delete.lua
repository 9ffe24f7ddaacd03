-- KEYS: user, its index of sessions. ARGV: now. {1, ids of its sessions...}, both keys removed; {0} when absent.
-- @include clock
local now = clock(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
table.insert(ids, 1, 1)
return ids
