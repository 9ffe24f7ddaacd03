-- The cursor sweep, per cursor met in the deadline index. KEYS[1]: the session's
-- hash. ARGV: now, cursor id. {'gone'}, {'live', deadline} or {'expired'} (removed now).
-- @include cursor
local dl = redis.call('HGET', P .. 'cu:' .. ARGV[2], 'dl')
if not dl then return {'gone'} end
if tonumber(dl) > now then return {'live', dl} end
close(ARGV[2])
return {'expired'}
