-- Transfer, second half (on the new session; KEYS[1]: its hash): ARGV: now, the
-- create.lua fields (2..14; last and next are computed here: the access is now),
-- held count, names..., claimed count, names..., then name, key, encoded triples.
-- @include session
-- @include fields
-- @include record
-- @include gc
local nxt = math.min(now + tonumber(ARGV[5]) * 1000, tonumber(ARGV[7]) + tonumber(ARGV[6]) * 1000)
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'rotation', ARGV[3], 'queue', ARGV[4], 'idle', ARGV[5], 'life', ARGV[6],
  'created', ARGV[7], 'last', int(now), 'next', int(nxt), 'expires', ARGV[10], 'user', ARGV[11], 'un', ARGV[12],
  'kh', ARGV[13], 'sup', '', 'gu', '0', 'gs', '')
local i = 15
local nh = tonumber(ARGV[i])
for j = 1, nh do redis.call('SADD', P .. 'hn', ARGV[i + j]) end
i = i + nh + 1
local nc = tonumber(ARGV[i])
for j = 1, nc do redis.call('SADD', P .. 'cn', ARGV[i + j]) end
i = i + nc + 1
while i + 2 <= #ARGV do
  local name, key, enc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('HSET', P .. 'r:' .. name, key, enc)
  redis.call('HINCRBY', P .. 'rn', name, 1)
  local exp = exp_of(enc)
  if exp ~= '' then redis.call('ZADD', P .. 'rx', exp, name .. '\0' .. key) end
  i = i + 3
end
gc(P, now, nxt, tonumber(ARGV[14]), true)
return fields(KEYS[1])
