-- @include group
-- the units claimed of a pool
local function claim_units(name)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', G .. 'c:' .. name)) do n = n + (tonumber(string.match(v, '^%d+|(%d*)|')) or 0) end
  return n
end
