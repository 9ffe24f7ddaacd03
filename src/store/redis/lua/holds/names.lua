-- The session side of holds. KEYS[1]: the session's hash. ARGV: now, 'add'|'remove',
-- set ('hn' holds | 'cn' claims), names... 'add' answers 0 when the session is not live.
-- @include session
-- @include fields
-- @include live
-- @include gc_key
local f = fields(KEYS[1])
local set = P .. ARGV[3]
if ARGV[2] == 'add' then
  if not is_live(f, now) then return 0 end
  for i = 4, #ARGV do redis.call('SADD', set, ARGV[i]) end
  gc_key(P, now, set)
else
  for i = 4, #ARGV do redis.call('SREM', set, ARGV[i]) end
end
return 1
