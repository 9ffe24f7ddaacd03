-- The hold sweep, per hold. KEYS[1]: the group's fence. ARGV: now, name,
-- session. {'expired', qty, token, exp} (announced now, once), {'live', exp}
-- (extended: reschedule), or {'gone'}.
-- @include group
-- @include hold
local k = G .. 'h:' .. ARGV[2]
local v = redis.call('HGET', k, ARGV[3])
if not v then return {'gone'} end
local h = parse(v)
if h.exp > now then return {'live', int(h.exp)} end
if h.ann == '1' then return {'gone'} end
h.ann = '1'
redis.call('HSET', k, ARGV[3], enc(h))
return {'expired', h.qty, h.token, int(h.exp)}
