-- KEYS[1]: the session's hash. ARGV: now. The live session's names of holds and
-- of claims: {holds..., '', claims...}, or nil.
-- @include session
-- @include fields
-- @include live
-- @include append
local f = fields(KEYS[1])
if not is_live(f, now) then return nil end
local out = redis.call('SMEMBERS', P .. 'hn')
out[#out + 1] = ''
return append(out, redis.call('SMEMBERS', P .. 'cn'))
