-- @include clock
-- @include keys_of
-- Redis TTLs are a backstop only (the scripts' checks decide): a session's keys
-- live until its next timeout plus a margin, for the sweep to report it.
local function gc(P, now, nxt, margin, force, at_read)
  local want = nxt + margin
  local at = tonumber(at_read or redis.call('HGET', P .. 's', 'gc') or '0')
  if force or want - at > margin / 2 then
    for _, k in ipairs(keys_of(P)) do redis.call('PEXPIRE', k, int(want - now)) end
    redis.call('HSET', P .. 's', 'gc', int(want))
  end
end
