-- The transaction sweep, per session met in the deadline index. KEYS[1]: the
-- session's hash. ARGV: now. {'gone'} (none open: drop the entry), {'live',
-- deadline} (moved since: reschedule), or {'aborted', notes...}: rolled back,
-- reported to the next request.
-- @include transaction
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local h = redis.call('HMGET', X, 'depth', 'deadline')
if not h[1] or tonumber(h[1]) == 0 then return {'gone'} end
if tonumber(h[2]) > now then return {'live', h[2]} end
local notes = discard(1, tonumber(h[1]))
redis.call('HSET', X, 'depth', 0, 'deadline', int(now), 'aborted', '1')
return append({'aborted'}, notes)
