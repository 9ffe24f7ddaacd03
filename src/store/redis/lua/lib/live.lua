-- a session's fields (fields()) name a live session: its next timeout is ahead
local function is_live(f, now) return f[8] and tonumber(f[8]) > now end
