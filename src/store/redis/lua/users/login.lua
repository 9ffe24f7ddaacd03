-- KEYS: user, its index of sessions. ARGV: now, the hash verified, session.
-- Indexes the session first: a password change after this ends it.
-- @include clock
local now = clock(ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'hash', 'roles', 'epoch')
if cur[1] ~= ARGV[2] then return {'changed'} end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return {'ok', cur[2], cur[3]}
