-- The per-session line of requests (src/store/redis/queue.ts): KEYS are the
-- lease, the list of waiting tickets and the hash ticket -> alive-until;
-- ARGV[1] is the ticket. Lease times are Redis's own TIME (real time, even
-- under a test clock).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local L, Q, QA, ticket = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local function live_head()
  while true do
    local h = redis.call('LINDEX', Q, 0)
    if not h then return nil end
    local until_ = tonumber(redis.call('HGET', QA, h) or '0')
    if until_ > now then return h end
    redis.call('LPOP', Q)
    redis.call('HDEL', QA, h)
  end
end
local function grant(h, channel, id, lease)
  redis.call('SET', L, h, 'PX', lease)
  redis.call('LPOP', Q)
  redis.call('HDEL', QA, h)
  redis.call('PUBLISH', channel, id .. ' ' .. h)
end
