-- The store's clock: the test's time when ARGV[1] names one (>= 0), else
-- Redis's own TIME, so every node of a deployment decides expiry by one clock.
local function clock(a)
  local n = tonumber(a)
  if n and n >= 0 then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- an integer as Redis wants it (no exponent, no decimals)
local function int(n) return string.format('%d', n) end
