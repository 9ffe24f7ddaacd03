-- The sale within one group. KEYS[1]: the group's fence. ARGV: now, session,
-- dry ('1' = check only), names... {'expired', names...} changing nothing, or
-- {'ok', name, claimValue, previousHold, previousClaim ('' none), ...}.
-- @include group
-- @include hold
-- @include fence
local sid, dry = ARGV[2], ARGV[3] == '1'
local bad, good = {}, {}
for i = 4, #ARGV do
  local name = ARGV[i]
  local v = redis.call('HGET', G .. 'h:' .. name, sid)
  local ok = false
  if v then
    local h = parse(v)
    ok = h.exp > now and (h.qty ~= '' or (h.token == fence(name) and redis.call('EXISTS', G .. 'c:' .. name) == 0))
    if ok then good[#good + 1] = { name = name, h = h, raw = v } end
  end
  if not ok then bad[#bad + 1] = name end
end
if #bad > 0 then table.insert(bad, 1, 'expired') return bad end
local out = {'ok'}
if dry then return out end
for _, g in ipairs(good) do
  local ck = G .. 'c:' .. g.name
  local prev = redis.call('HGET', ck, sid) or ''
  local qty = g.h.qty
  if qty ~= '' and prev ~= '' then qty = int(tonumber(qty) + (tonumber(string.match(prev, '^%d+|(%d*)|')) or 0)) end
  local claim = int(g.h.token) .. '|' .. qty .. '|' .. int(now)
  redis.call('HDEL', G .. 'h:' .. g.name, sid)
  redis.call('HSET', ck, sid, claim)
  for _, x in ipairs({g.name, claim, g.raw, prev}) do out[#out + 1] = x end
end
return out
