-- @include keys_of
-- deletes every key of the session; answers the names of the holds it listed (released after, per group)
local function remove_session(P)
  local held = redis.call('SMEMBERS', P .. 'hn')
  redis.call('DEL', unpack(keys_of(P)))
  return held
end
