-- @include clock
-- the new key's hash, the one it replaces first among the superseded; kh and sup when
-- the caller read them, and more fields to set in the same HSET
local function new_key(P, s, presented_new, grace_until, salt, kh, sup, ...)
  kh = kh or redis.call('HGET', s, 'kh')
  sup = kh .. (sup or redis.call('HGET', s, 'sup') or '')
  redis.call('HSET', s, 'kh', presented_new, 'sup', string.sub(sup, 1, 32 * 16), 'gu', int(grace_until), 'gs', salt, ...)
end
