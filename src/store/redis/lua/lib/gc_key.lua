-- @include clock
-- keys created after the last gc() get the session's deadline too
local function gc_key(P, now, ...)
  local at = tonumber(redis.call('HGET', P .. 's', 'gc') or '0')
  if at > now then for _, k in ipairs({...}) do redis.call('PEXPIRE', k, int(at - now)) end end
end
