-- KEYS: log, sequence. ARGV: now, maxFailures, windowMs. {waitMs, at}: logged when waitMs is 0.
-- @include clock
local now = clock(ARGV[1])
local max, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now - window))
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  return {int(tonumber(oldest[2]) + window - now), int(now)}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], int(now), int(now) .. ':' .. seq)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(max + 1))
redis.call('PEXPIRE', KEYS[1], int(window))
redis.call('PEXPIRE', KEYS[2], int(window))
return {0, int(now)}
