import { LUA_CLOCK } from './sessions.js';
/**
 * Lua of the Redis engine for holds, pools, fences and claims. Every script
 * touches the keys of ONE resource group (`<prefix>:{<group>}:`, the name up
 * to its last ':'), so a cart of one event, and its sale, is one script on
 * one Cluster slot. KEYS[1] is the group's `fence` hash; the others are
 * derived from it:
 *
 *   h:<name>  hash session id -> token|expiresAt|quantity|announced|sessionExpiry  (quantity '' for a resource)
 *   c:<name>  hash session id -> token|quantity|confirmedAt          (the claims)
 *   fence     hash name -> last token granted (never expires, never goes back)
 *   pools     hash name -> capacity
 *
 * ARGV[1] is the time as in redis-lua.ts. The rules are core/holds.ts's; a
 * refusal answers the state seen and Node's pure planner throws the error.
 */
export const HOLDS_COMMON = LUA_CLOCK + `
local G = string.sub(KEYS[1], 1, -6)
local now = clock(ARGV[1])
local function parse(v)
  local token, exp, qty, ann, sx = string.match(v, '^(%d+)|(%d+)|(%d*)|(%d)|?(%d*)$')
  return { token = tonumber(token), exp = tonumber(exp), qty = qty, ann = ann, sx = sx }
end
local function enc(h) return int(h.token) .. '|' .. int(h.exp) .. '|' .. h.qty .. '|' .. h.ann .. '|' .. h.sx end
-- sx: the holding session's expiry (next timeout) when last known. It only
-- moves forward, so while sx is ahead the session is alive and its hold
-- blocks. Past it the session may have expired: the hold still blocks here,
-- but is answered as a suspect; Node asks the session's own script and tries
-- again naming the dead ones (ignored), or refreshes sx (REFRESH).
local function suspect(h) return h.sx ~= '' and tonumber(h.sx) <= now end
local function fresher(h, sx) if h.sx == '' or tonumber(sx) > tonumber(h.sx) then h.sx = sx end end
local function set_of(list)
  local out = {}
  for id in string.gmatch(list, '[^,]+') do out[id] = true end
  return out
end
local function joined(set)
  local out = {}
  for id in pairs(set) do out[#out + 1] = id end
  return table.concat(out, ',')
end
-- the holders' key lives until its last hold's expiry plus a margin (for the report to its session)
local function keep(k, exp, margin)
  local want = exp - now + margin
  if redis.call('PTTL', k) < want then redis.call('PEXPIRE', k, int(want)) end
end
local function holders(name)
  local all = redis.call('HGETALL', G .. 'h:' .. name)
  local out = {}
  for i = 1, #all, 2 do out[#out + 1] = { sid = all[i], h = parse(all[i + 1]) } end
  return out
end
local function claim_units(name)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', G .. 'c:' .. name)) do n = n + (tonumber(string.match(v, '^%d+|(%d*)|')) or 0) end
  return n
end
local function fence(name) return tonumber(redis.call('HGET', G .. 'fence', name) or '0') end
`;

/**
 * ARGV: now, session, ttlMs, margin, dry ('1': check only), session expiry
 * (sx), dead sessions (comma-separated: their holds block nobody), names... All or nothing:
 * {'ok', name, token, expiresAt, fresh, value written, previous value ('' none), ...} or
 * {'reject', suspects (comma-separated), name, isPool, claimed, heldByOther, mineToken, mineExp, fence, ...}.
 */
export const HOLD_RESOURCES = `
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
`;

/**
 * ARGV: now, session, ttlMs, margin, pool, quantity, session expiry (sx), dead sessions (comma-separated).
 * {'ok', quantity, token, expiresAt, fresh} or
 * {'reject', capacity|-1, heldByOthers, claimed, mineQty|-1, mineToken, mineExp, fence, suspects (comma-separated)}.
 */
export const HOLD_POOL = `
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
`;

/**
 * ARGV: now, session, mode, ttlMs, margin, names... Per name of this session's:
 *  read:    live ones answered, expired ones dropped and answered (reported once)
 *  renew:   live ones extended to at least now + ttl
 *  release: dropped (the live ones answered)
 * Answers {state, name, quantity, token, expiresAt, announced, ...}, state
 * 'live' | 'expired' | 'gone' (not held by this session: drop it from its list).
 */
export const SESSION_HOLDS = `
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
`;

/** ARGV: now, session, names... The session's claims among them: {name, token, quantity, confirmedAt, ...}; absent ones as {name, '-'}. */
export const SESSION_CLAIMS = `
local sid = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local v = redis.call('HGET', G .. 'c:' .. ARGV[i], sid)
  out[#out + 1] = ARGV[i]
  out[#out + 1] = v or '-'
end
return out
`;

/**
 * The sale within one group. ARGV: now, session, dry ('1' = check only), names...
 * {'expired', names...} changing nothing, or {'ok', name, claimValue, previousHold, previousClaim ('' none), ...}.
 */
export const CONFIRM = `
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
`;

/** Undoes a CONFIRM of this group (another group of the same sale failed). ARGV: now, session, margin, (name, claim, hold, previousClaim)... */
export const UNCONFIRM = `
local sid, margin = ARGV[2], tonumber(ARGV[3])
for i = 4, #ARGV, 4 do
  local name, claim, hold, prev = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ck = G .. 'c:' .. name
  if redis.call('HGET', ck, sid) == claim then
    if prev == '' then redis.call('HDEL', ck, sid) else redis.call('HSET', ck, sid, prev) end
    local k = G .. 'h:' .. name
    redis.call('HSET', k, sid, hold)
    keep(k, parse(hold).exp, margin)
  end
end
return 1
`;

/** Undoes a HOLD_RESOURCES of this group (another group of the same request was refused). ARGV: now, session, (name, written, previous)... */
export const UNHOLD = `
local sid = ARGV[2]
for i = 3, #ARGV, 3 do
  local k = G .. 'h:' .. ARGV[i]
  if redis.call('HGET', k, sid) == ARGV[i + 1] then
    if ARGV[i + 2] == '' then redis.call('HDEL', k, sid) else redis.call('HSET', k, sid, ARGV[i + 2]) end
  end
end
return 1
`;

/** Transfer within one group. ARGV: now, old session, new session, count of hold names, names..., claim names... */
export const MOVE = `
local old, new, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
for i = 5, #ARGV do
  local k
  if i < 5 + n then k = G .. 'h:' .. ARGV[i] else k = G .. 'c:' .. ARGV[i] end
  local v = redis.call('HGET', k, old)
  if v then
    redis.call('HDEL', k, old)
    redis.call('HSET', k, new, v)
  end
end
return 1
`;

/** ARGV: now, name, capacity. {'ok', available} or {'conflict'}. */
export const SET_POOL = `
local name, cap = ARGV[2], tonumber(ARGV[3])
local held = 0
for _, x in ipairs(holders(name)) do
  if x.h.exp > now then
    if x.h.qty == '' then return {'conflict'} end
    held = held + tonumber(x.h.qty)
  end
end
local claimed = 0
for _, v in ipairs(redis.call('HVALS', G .. 'c:' .. name)) do
  local q = string.match(v, '^%d+|(%d*)|')
  if q == '' then return {'conflict'} end
  claimed = claimed + tonumber(q)
end
redis.call('HSET', G .. 'pools', name, int(cap))
return {'ok', math.max(0, cap - held - claimed)}
`;

/** ARGV: now, name. How many claims were freed. */
export const FREE_CLAIMS = `
local k = G .. 'c:' .. ARGV[2]
local n = redis.call('HLEN', k)
redis.call('DEL', k)
return n
`;

/**
 * The hold sweep, per hold. ARGV: now, name, session. {'expired', qty, token, exp}
 * (announced now, once), {'live', exp} (extended: reschedule), or {'gone'}.
 */
export const ANNOUNCE = `
local k = G .. 'h:' .. ARGV[2]
local v = redis.call('HGET', k, ARGV[3])
if not v then return {'gone'} end
local h = parse(v)
if h.exp > now then return {'live', int(h.exp)} end
if h.ann == '1' then return {'gone'} end
h.ann = '1'
redis.call('HSET', k, ARGV[3], enc(h))
return {'expired', h.qty, h.token, int(h.exp)}
`;

/**
 * A rolled-back scope's holds in this group (core/scopes.ts planHoldRollback).
 * ARGV: now, session, then notes in the order discarded (innermost scope
 * first): name, token, quantity ('' for a resource). Only the grant the scope
 * made (same token) and only while live; a pool gives back the units noted.
 * Answers the holds dropped: {name, quantity, token, expiresAt, ...}.
 */
export const RELEASE_NOTED = `
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
`;

/** A suspect found alive: its holds on these names get its current expiry. ARGV: now, session, session expiry, names... */
export const REFRESH = `
local sid, sx = ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local k = G .. 'h:' .. ARGV[i]
  local v = redis.call('HGET', k, sid)
  if v then
    local h = parse(v)
    fresher(h, sx)
    redis.call('HSET', k, sid, enc(h))
  end
end
return 1
`;
