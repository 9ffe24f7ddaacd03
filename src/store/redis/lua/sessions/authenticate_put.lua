-- A PUT of a record in one step (AuthRequest.write). KEYS[1]: the session's
-- hash. ARGV: now, authenticate's six, then put_record's nine. Answers
-- authenticate's reply, followed by put_record's {'ok', ...} when the key was
-- accepted, the session has no transaction state and the write passed; else
-- nothing is written.
-- @include authenticate
-- @include put_record
local a = authenticate()
if (a[1] == 'current' or a[1] == 'grace') and a[#a] == '0' then
  local w = put_record(7, 0) -- no transaction state: depth 0
  if w[1] == 'ok' then append(a, w) end
end
return a
