-- At the start of a request. KEYS[1]: the session's hash. ARGV: now, timeoutMs.
-- Past the deadline every transaction is rolled back: {'aborted', 0, notes...};
-- else the deadline moves and a report left by the sweep is taken:
-- {'aborted' | 'ok', depth}.
-- @include transaction
local h = redis.call('HMGET', X, 'depth', 'deadline', 'aborted')
if not h[1] then return {'ok', 0} end
local depth = tonumber(h[1])
if depth > 0 and tonumber(h[2]) <= now then
  local notes = discard(1, depth)
  redis.call('DEL', X)
  return append({'aborted', 0}, notes)
end
local state = 'ok'
if h[3] == '1' then state = 'aborted' end
redis.call('HSET', X, 'aborted', '0')
set_head(depth, now + tonumber(ARGV[2]))
return {state, depth}
