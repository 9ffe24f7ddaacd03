-- KEYS[1]: the session's hash. ARGV: now, then put_record's (lib/put_record.lua).
-- @include put_record
-- @include fields
-- @include live
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
return put_record(1, depth_of(P))
