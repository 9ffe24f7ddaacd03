-- KEYS[1]: the session's hash. ARGV: now, cursor id. 1 when it was live (now closed), else 0.
-- @include cursor
if not live_cursor(ARGV[2]) then return 0 end
close(ARGV[2])
return 1
