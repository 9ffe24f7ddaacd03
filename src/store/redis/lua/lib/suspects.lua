-- @include group
-- sx: the holding session's expiry (next timeout) when last known. It only
-- moves forward, so while sx is ahead the session is alive and its hold
-- blocks. Past it the session may have expired: the hold still blocks here,
-- but is answered as a suspect; Node asks the session's own script and tries
-- again naming the dead ones (ignored), or refreshes sx (holds/refresh.lua).
local function suspect(h) return h.sx ~= '' and tonumber(h.sx) <= now end
local function fresher(h, sx) if h.sx == '' or tonumber(sx) > tonumber(h.sx) then h.sx = sx end end
local function set_of(list)
  local out = {}
  for id in string.gmatch(list, '[^,]+') do out[id] = true end
  return out
end
local function joined(set)
  local out = {}
  for id in pairs(set) do out[#out + 1] = id end
  return table.concat(out, ',')
end
