-- KEYS: user, its index of sessions. ARGV: now, hash (''), roles JSON (''), ifAbsent.
-- {'none'} | {'created' | 'exists' | 'changed', hash, roles, created, updated, previous roles, epoch, session ids (changed)...}
-- @include clock
local now = clock(ARGV[1])
local u = KEYS[1]
local cur = redis.call('HMGET', u, 'hash', 'roles', 'created', 'updated')
if not cur[1] then
  if ARGV[2] == '' then return {'none'} end
  local roles = ARGV[3]
  if roles == '' then roles = '[]' end
  redis.call('HSET', u, 'hash', ARGV[2], 'roles', roles, 'created', int(now), 'updated', int(now), 'epoch', '0')
  return {'created', ARGV[2], roles, int(now), int(now), '', 0}
end
if ARGV[4] == '1' then return {'exists', cur[1], cur[2], cur[3], cur[4], cur[2], 0} end
local hash, roles = cur[1], cur[2]
if ARGV[2] ~= '' then hash = ARGV[2] end
if ARGV[3] ~= '' then roles = ARGV[3] end
local epoch = redis.call('HINCRBY', u, 'epoch', 1)
redis.call('HSET', u, 'hash', hash, 'roles', roles, 'updated', int(now))
local out = {'changed', hash, roles, cur[3], int(now), cur[2], epoch}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do out[#out + 1] = id end
return out
