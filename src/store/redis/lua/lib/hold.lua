-- @include clock
-- A hold as stored: token|expiresAt|quantity|announced|sessionExpiry (quantity
-- '' for a resource; codec.ts reads it too)
local function parse(v)
  local token, exp, qty, ann, sx = string.match(v, '^(%d+)|(%d+)|(%d*)|(%d)|?(%d*)$')
  return { token = tonumber(token), exp = tonumber(exp), qty = qty, ann = ann, sx = sx }
end
local function enc(h) return int(h.token) .. '|' .. int(h.exp) .. '|' .. h.qty .. '|' .. h.ann .. '|' .. h.sx end
