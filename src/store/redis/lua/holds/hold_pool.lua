-- KEYS[1]: the group's fence. ARGV: now, session, ttlMs, margin, pool,
-- quantity, session expiry (sx), dead sessions (comma-separated).
-- {'ok', quantity, token, expiresAt, fresh} or {'reject', capacity|-1,
-- heldByOthers, claimed, mineQty|-1, mineToken, mineExp, fence, suspects
-- (comma-separated)}.
-- @include group
-- @include hold
-- @include holders
-- @include suspects
-- @include claims
-- @include keep
-- @include fence
local sid, ttl, margin, name, want, sx = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
local dead, suspects = set_of(ARGV[8]), {}
local cap = tonumber(redis.call('HGET', G .. 'pools', name) or '-1')
local others, mine = 0, nil
for _, x in ipairs(holders(name)) do
  if x.h.exp > now then
    if x.sid == sid then if x.h.qty ~= '' then mine = x.h end
    elseif not dead[x.sid] then
      others = others + (tonumber(x.h.qty) or 0)
      if suspect(x.h) then suspects[x.sid] = true end
    end
  end
end
local claimed = claim_units(name)
local mq = 0
if mine then mq = tonumber(mine.qty) end
local available = math.max(0, math.max(cap, 0) - others - claimed - mq)
if want > available then
  local a, b, c = -1, -1, -1
  if mine then a, b, c = mq, mine.token, mine.exp end
  return {'reject', cap, others, claimed, a, b, c, fence(name), joined(suspects)}
end
local h, fresh
if mine then
  h = mine
  h.qty = int(mq + want)
  h.exp = math.max(h.exp, now + ttl)
  fresher(h, sx)
  fresh = 0
else
  h = { token = fence(name) + 1, exp = now + ttl, qty = int(want), ann = '0', sx = sx }
  redis.call('HSET', G .. 'fence', name, int(h.token))
  fresh = 1
end
local k = G .. 'h:' .. name
redis.call('HSET', k, sid, enc(h))
keep(k, h.exp, margin)
return {'ok', h.qty, h.token, int(h.exp), fresh}
