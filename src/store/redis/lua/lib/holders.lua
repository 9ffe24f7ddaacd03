-- @include group
-- @include hold
-- every hold on a name: {sid, h (parsed)}
local function holders(name)
  local all = redis.call('HGETALL', G .. 'h:' .. name)
  local out = {}
  for i = 1, #all, 2 do out[#out + 1] = { sid = all[i], h = parse(all[i + 1]) } end
  return out
end
