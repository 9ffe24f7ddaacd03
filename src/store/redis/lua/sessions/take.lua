-- Transfer, first half (on the old session; KEYS[1]: its hash; ARGV: now):
-- everything it has, and the old session's keys deleted. {fields..., user,
-- userName, names of holds, '', names of claims, '', name, key, encoded...}
-- @include session
-- @include fields
-- @include live
-- @include append
-- @include prune
-- @include keys_of
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) then return nil end
prune(P, now)
local out = append({}, f)
out[#out + 1] = redis.call('HGET', s, 'un') or ''
append(out, redis.call('SMEMBERS', P .. 'hn'))
out[#out + 1] = ''
append(out, redis.call('SMEMBERS', P .. 'cn'))
out[#out + 1] = ''
for _, name in ipairs(redis.call('HKEYS', P .. 'rn')) do
  local all = redis.call('HGETALL', P .. 'r:' .. name)
  for i = 1, #all, 2 do append(out, {name, all[i], all[i + 1]}) end
end
redis.call('DEL', unpack(keys_of(P)))
return out
