-- @include split0
-- drops expired records first, so reads and counts see live data only;
-- the cost follows what expired
local function prune(P, now)
  local due = redis.call('ZRANGEBYSCORE', P .. 'rx', '-inf', now)
  for _, m in ipairs(due) do
    local name, key = split0(m)
    if redis.call('HDEL', P .. 'r:' .. name, key) == 1 then
      if redis.call('HINCRBY', P .. 'rn', name, -1) <= 0 then redis.call('HDEL', P .. 'rn', name) end
      redis.call('HDEL', P .. 'rb', name) -- its byte figure is counted again when needed (put_record)
    end
  end
  if #due > 0 then redis.call('ZREMRANGEBYSCORE', P .. 'rx', '-inf', now) end
end
