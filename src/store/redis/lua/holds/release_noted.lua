-- A rolled-back transaction's holds in this group (core/transactions.ts
-- planHoldRollback). KEYS[1]: the group's fence. ARGV: now, session, then notes
-- in the order discarded (innermost transaction first): name, token, quantity
-- ('' for a resource). Only the grant the transaction made (same token) and
-- only while live; a pool gives back the units noted. Answers the holds
-- dropped: {name, quantity, token, expiresAt, ...}.
-- @include group
-- @include hold
local sid = ARGV[2]
local out = {}
for i = 3, #ARGV, 3 do
  local name, nq = ARGV[i], ARGV[i + 2]
  local k = G .. 'h:' .. name
  local v = redis.call('HGET', k, sid)
  if v then
    local h = parse(v)
    if h.token == tonumber(ARGV[i + 1]) and h.exp > now then
      local left = 0
      if nq ~= '' and h.qty ~= '' then left = tonumber(h.qty) - tonumber(nq) end
      if left > 0 then
        h.qty = int(left)
        redis.call('HSET', k, sid, enc(h))
      else
        redis.call('HDEL', k, sid)
        for _, x in ipairs({name, h.qty, h.token, int(h.exp)}) do out[#out + 1] = x end
      end
    end
  end
end
return out
