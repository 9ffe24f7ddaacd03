-- KEYS[1]: the session's hash. ARGV: now, new hash, user JSON ('' = none), user
-- name, login epoch ('' when not a login). New key with no grace, the user set,
-- a pending role change dropped (or taken, when it is newer than the login's
-- read of the user). Answers {fields..., previous user name}, or nil.
-- @include session
-- @include fields
-- @include live
-- @include append
-- @include new_key
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) then return nil end
local k = redis.call('HMGET', s, 'un', 'pend', 'pn', 'pe')
local user = ARGV[3]
if ARGV[5] ~= '' and k[2] and k[3] == ARGV[4] and tonumber(k[4]) > tonumber(ARGV[5]) then user = k[2] end
redis.call('HDEL', s, 'pend', 'pn', 'pe')
new_key(P, s, ARGV[2], 0, '')
redis.call('HSET', s, 'user', user, 'un', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', s, 'ue', ARGV[5]) end
f[10] = user
return append(f, {k[1] or ''})
