-- KEYS[1]: the session's hash. ARGV: now, all ('1': every transaction), timeoutMs.
-- {'ok', depth left, notes...}, {'none'} or {'invalid'}.
-- @include transaction
-- @include fields
-- @include live
-- @include depth
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
local depth = depth_of(P)
if depth == 0 then return {'none'} end
local from = depth
if ARGV[2] == '1' then from = 1 end
local notes = discard(from, depth)
set_head(from - 1, now + tonumber(ARGV[3]))
return append({'ok', from - 1}, notes)
