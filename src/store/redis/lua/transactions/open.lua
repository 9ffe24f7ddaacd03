-- KEYS[1]: the session's hash. ARGV: now, timeoutMs, maxDepth.
-- {'ok', depth, deadline}, {'limit'} or {'invalid'}.
-- @include transaction
-- @include fields
-- @include live
-- @include depth
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
local depth = depth_of(P)
if depth >= tonumber(ARGV[3]) then return {'limit'} end
local deadline = now + tonumber(ARGV[2])
redis.call('HSET', X, 'aborted', '0')
set_head(depth + 1, deadline)
return {'ok', depth + 1, int(deadline)}
