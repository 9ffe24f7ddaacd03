-- KEYS[1]: the group's fence. ARGV: now, session, names... The session's claims
-- among them: {name, token|quantity|confirmedAt, ...}; absent ones as {name, '-'}.
-- @include group
local sid = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local v = redis.call('HGET', G .. 'c:' .. ARGV[i], sid)
  out[#out + 1] = ARGV[i]
  out[#out + 1] = v or '-'
end
return out
