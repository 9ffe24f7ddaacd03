-- KEYS[1]: the session's hash. ARGV: now. The session's fields, or nil.
-- @include session
-- @include fields
-- @include live
local f = fields(KEYS[1])
if not is_live(f, now) then return nil end
return f
