-- KEYS[1]: the session's hash. ARGV: now, cursor id, name, pageSize, timeoutMs,
-- maxCursors, items ('key\0encoded')... {'ok', deadline}, {'limit'} or
-- {'invalid'}. Expired cursors of the session go first.
-- @include cursor
-- @include fields
-- @include live
-- @include gc_key
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
for _, c in ipairs(redis.call('ZRANGEBYSCORE', CS, '-inf', now)) do close(c) end
if redis.call('ZCARD', CS) >= tonumber(ARGV[6]) then return {'limit'} end
local c = ARGV[2]
local ck, ci = P .. 'cu:' .. c, P .. 'ci:' .. c
local deadline = now + tonumber(ARGV[5])
redis.call('DEL', ci)
for i = 7, #ARGV, 1000 do redis.call('RPUSH', ci, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
redis.call('HSET', ck, 'name', ARGV[3], 'size', ARGV[4], 'total', #ARGV - 6, 'pos', 0, 'tmo', ARGV[5], 'dl', int(deadline))
redis.call('ZADD', CS, int(deadline), c)
gc_key(P, now, ck)
gc_key(P, now, ci)
gc_key(P, now, CS)
return {'ok', int(deadline)}
