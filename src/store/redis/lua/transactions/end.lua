-- Before a transfer. KEYS[1]: the session's hash. ARGV: now. Every transaction
-- discarded and every cursor closed: {notes...}.
-- @include transaction
-- @include depth
local notes = discard(1, depth_of(P))
redis.call('DEL', X)
for _, c in ipairs(redis.call('ZRANGE', P .. 'cs', 0, -1)) do redis.call('DEL', P .. 'cu:' .. c, P .. 'ci:' .. c) end
redis.call('DEL', P .. 'cs')
return notes
