-- @include session
-- @include live
-- @include append
-- @include remove_session
-- @include new_key
-- @include gc
-- The authentication of ARGV[2..7]: presented hash, client ('' = any), new
-- hash ('' = no rotation), salt (hex), graceMs, margin. Answers {outcome,
-- fields..., extra, transactions}: 'invalid'; 'replayed' (the session ended
-- here: fields, user name, names of its holds); 'current' or 'grace' (extra:
-- 'privilege' when a pending role change was applied, the grace salt for
-- 'grace'; transactions '1' when the request must enter them).
-- The decision is core/authenticate.ts's; test/store/authenticate-cases.ts
-- holds this copy to it.
local function authenticate()
  local s = KEYS[1]
  local all = redis.call('HMGET', s, 'client','rotation','queue','idle','life','created','last','next','expires','user',
    'kh', 'sup', 'gu', 'gs', 'un', 'pend', 'pn', 'gc')
  local f = {unpack(all, 1, 10)}
  if not is_live(f, now) then return {'invalid'} end
  if ARGV[3] ~= '' and f[1] ~= ARGV[3] then return {'invalid'} end
  local k = {unpack(all, 11, 18)}
  local presented = ARGV[2]
  local check
  if k[1] == presented then check = 'current' else
    local sup, at = k[2] or '', -1
    for i = 0, #sup / 32 - 1 do
      if string.sub(sup, i * 32 + 1, i * 32 + 32) == presented then at = i break end
    end
    -- core/session.ts checkKey: gu < 0 while the current key was never presented (served however late)
    local gu = tonumber(k[3])
    if at == 0 and k[4] ~= '' and (gu < 0 or now < gu) then check = 'grace'
    elseif at >= 0 then check = 'replayed'
    else return {'invalid'} end
  end
  if check == 'replayed' then
    local un = k[5] or ''
    local held = remove_session(P)
    return append(append({'replayed'}, f), append({un}, held))
  end
  local rotate = ARGV[4] ~= ''
  local rotated = false
  local nxt = math.min(now + tonumber(f[4]) * 1000, tonumber(f[6]) + tonumber(f[5]) * 1000)
  if check == 'current' and rotate and f[2] == 'per-request' then
    -- core/session.ts graceFor: negative (served while the new key is not presented), 0 without a window
    local grace_ms = tonumber(ARGV[6])
    new_key(P, s, ARGV[4], grace_ms > 0 and -(now + grace_ms) or 0, ARGV[5], k[1], k[2] or '', 'last', int(now), 'next', int(nxt))
    rotated = true
  elseif check == 'current' and tonumber(k[3]) < 0 then
    -- core/session.ts presentedCurrent: the client has its key; the one before is graced by the window alone
    redis.call('HSET', s, 'last', int(now), 'next', int(nxt), 'gu', int(-tonumber(k[3])))
  else
    redis.call('HSET', s, 'last', int(now), 'next', int(nxt))
  end
  f[7] = int(now)
  f[8] = int(nxt)
  local extra = ''
  if rotate and k[5] and k[5] ~= '' and k[6] then
    -- a role change made by an admin: served under the new roles, new key, no grace
    redis.call('HDEL', s, 'pend', 'pn', 'pe')
    if k[7] == k[5] then
      if rotated then redis.call('HSET', s, 'gu', '0', 'gs', '') else new_key(P, s, ARGV[4], 0, '', k[1], k[2] or '') end
      redis.call('HSET', s, 'user', k[6])
      f[10] = k[6]
      check = 'current'
      extra = 'privilege'
    end
  end
  if check == 'grace' then extra = k[4] end
  gc(P, now, nxt, tonumber(ARGV[7]), false, k[8] or '0')
  -- '1' when the session has transactions open or an abort to report (the request must enter them)
  return append({check}, append(f, {extra, tostring(redis.call('EXISTS', P .. 'tx'))}))
end
