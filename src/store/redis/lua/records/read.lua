-- KEYS[1]: the session's hash. ARGV: now, name ('' = every record).
-- {'ok', name, key, encoded, ...}: with a transaction open, what the session sees.
-- @include session
-- @include fields
-- @include live
-- @include append
-- @include prune
-- @include depth
-- @include view
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
prune(P, now)
local depth = depth_of(P)
if depth > 0 then
  local name = ARGV[2]
  if name == '' then name = nil end
  local out = {'ok'}
  for n, m in pairs(view(P, depth, name, now)) do
    for k, e in pairs(m) do append(out, {n, k, e}) end
  end
  return out
end
local names = {ARGV[2]}
if ARGV[2] == '' then names = redis.call('HKEYS', P .. 'rn') end
local out = {'ok'}
for _, name in ipairs(names) do
  local all = redis.call('HGETALL', P .. 'r:' .. name)
  for i = 1, #all, 2 do
    out[#out + 1] = name
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
