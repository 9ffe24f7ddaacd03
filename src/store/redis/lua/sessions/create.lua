-- KEYS[1]: the session's hash. ARGV: now, client, rotation, queue, idle, life,
-- created, last, next, expires, user, userName, keyHash, margin.
-- Does what gc(..., force) would, for a new session whose only key is its hash.
-- @include clock
local now = clock(ARGV[1])
local want = tonumber(ARGV[9]) + tonumber(ARGV[14])
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'rotation', ARGV[3], 'queue', ARGV[4], 'idle', ARGV[5], 'life', ARGV[6],
  'created', ARGV[7], 'last', ARGV[8], 'next', ARGV[9], 'expires', ARGV[10], 'user', ARGV[11], 'un', ARGV[12],
  'kh', ARGV[13], 'sup', '', 'gu', '0', 'gs', '', 'gc', int(want))
redis.call('PEXPIRE', KEYS[1], int(want - now))
return 1
