-- KEYS[1]: the group's fence. ARGV: now, session, ttlMs, margin, dry ('1':
-- check only), session expiry (sx), dead sessions (comma-separated: their holds
-- block nobody), names... All or nothing: {'ok', name, token, expiresAt, fresh,
-- value written, previous value ('' none), ...} or {'reject', suspects
-- (comma-separated), name, isPool, claimed, heldByOther, mineToken, mineExp,
-- fence, ...}.
-- @include group
-- @include hold
-- @include holders
-- @include suspects
-- @include keep
-- @include fence
local sid, ttl, margin, dry, sx = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local dead, suspects = set_of(ARGV[7]), {}
local states, bad = {}, false
for i = 8, #ARGV do
  local name = ARGV[i]
  local st = { name = name, pool = redis.call('HEXISTS', G .. 'pools', name), claimed = redis.call('EXISTS', G .. 'c:' .. name),
    other = 0, mine = nil, fence = fence(name) }
  for _, x in ipairs(holders(name)) do
    if x.h.exp > now then
      if x.sid == sid then if x.h.qty == '' then st.mine = x.h end
      elseif not dead[x.sid] then
        st.other = 1
        if suspect(x.h) then suspects[x.sid] = true end
      end
    end
  end
  if st.pool == 1 or st.claimed == 1 or st.other == 1 then bad = true end
  states[#states + 1] = st
end
if bad then
  local out = {'reject', joined(suspects)}
  for _, st in ipairs(states) do
    local mt, me = -1, -1
    if st.mine then mt, me = st.mine.token, st.mine.exp end
    for _, v in ipairs({st.name, st.pool, st.claimed, st.other, mt, me, st.fence}) do out[#out + 1] = v end
  end
  return out
end
local out = {'ok'}
if dry then return out end
for _, st in ipairs(states) do
  local h, fresh, prev = nil, nil, ''
  if st.mine then
    prev = enc(st.mine)
    h = st.mine
    h.exp = math.max(h.exp, now + ttl)
    fresher(h, sx)
    fresh = 0
  else
    h = { token = st.fence + 1, exp = now + ttl, qty = '', ann = '0', sx = sx }
    redis.call('HSET', G .. 'fence', st.name, int(h.token))
    fresh = 1
  end
  local k = G .. 'h:' .. st.name
  local value = enc(h)
  redis.call('HSET', k, sid, value)
  keep(k, h.exp, margin)
  for _, v in ipairs({st.name, h.token, int(h.exp), fresh, value, prev}) do out[#out + 1] = v end
end
return out
