-- KEYS[1]: the group's fence. ARGV: now, session, mode, ttlMs, margin, names...
-- Per name of this session's:
--  read:    live ones answered, expired ones dropped and answered (reported once)
--  renew:   live ones extended to at least now + ttl
--  release: dropped (the live ones answered)
-- Answers {state, name, quantity, token, expiresAt, announced, ...}, state
-- 'live' | 'expired' | 'gone' (not held by this session: drop it from its list).
-- @include group
-- @include hold
-- @include keep
local sid, mode, ttl, margin = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for i = 6, #ARGV do
  local name = ARGV[i]
  local k = G .. 'h:' .. name
  local v = redis.call('HGET', k, sid)
  local state, h = 'gone', nil
  if v then
    h = parse(v)
    if h.exp > now then state = 'live' else state = 'expired' end
    if mode == 'release' or (mode == 'read' and state == 'expired') then redis.call('HDEL', k, sid)
    elseif mode == 'renew' and state == 'live' then
      h.exp = math.max(h.exp, now + ttl)
      redis.call('HSET', k, sid, enc(h))
      keep(k, h.exp, margin)
    end
  end
  if h then for _, x in ipairs({state, name, h.qty, h.token, int(h.exp), h.ann}) do out[#out + 1] = x end
  else for _, x in ipairs({state, name, '', 0, 0, '0'}) do out[#out + 1] = x end end
end
return out
