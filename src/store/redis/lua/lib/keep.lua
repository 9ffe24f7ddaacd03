-- @include group
-- the holders' key lives until its last hold's expiry plus a margin (for the report to its session)
local function keep(k, exp, margin)
  local want = exp - now + margin
  if redis.call('PTTL', k) < want then redis.call('PEXPIRE', k, int(want)) end
end
