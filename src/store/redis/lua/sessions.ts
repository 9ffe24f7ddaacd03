/**
 * Lua of the Redis engine for sessions and records. Every script touches the
 * keys of ONE session, all under its `{id}` hash tag: KEYS[1] is
 * `<prefix>:{<id>}:s` and the script derives the session's other keys from
 * it (same slot, so Redis Cluster runs them unchanged).
 *
 * ARGV[1] is always the time: a number when the store was given a clock
 * (tests move it by hand), else -1 and the script reads Redis's own TIME, so
 * every node of a deployment decides expiry by one clock.
 *
 * The checks mirror the pure rules in src/core (checkKey, rotated, planWrite,
 * checkDelete); when a write is refused the script answers the state it saw
 * and Node asks the same pure function, which throws the same error as the
 * other engines.
 */

/** The store's clock (a test's time when ARGV[1] names one, else Redis TIME) and integer formatting: every script starts with it. */
export const LUA_CLOCK = `
local function clock(a)
  local n = tonumber(a)
  if n and n >= 0 then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
`;

/**
 * Helpers of the session scripts: each script gets those it names (and what
 * they name), in this order, then itself (sessionScript). Redis builds every
 * `local function` of a script anew on each call, so a script carrying all of
 * them paid for twenty closures it mostly never called.
 */
const HELPERS = LUA_CLOCK + `
local SF = {'client','rotation','queue','idle','life','created','last','next','expires','user'}
local function fields(s) return redis.call('HMGET', s, unpack(SF)) end
local function is_live(f, now) return f[8] and tonumber(f[8]) > now end
local function append(t, list) for _, v in ipairs(list) do t[#t + 1] = v end return t end
-- the depth of the session's open scopes (0: none; the head tx holds depth, deadline, aborted)
local function depth_of(P) return tonumber(redis.call('HGET', P .. 'tx', 'depth') or '0') end
-- every key a session owns: its records' hashes are listed in rn, its scopes' rows and
-- hold notes are tx:<d> and th:<d> up to its depth, its cursors are listed in cs
local function keys_of(P)
  local ks = {P .. 's', P .. 'rn', P .. 'rx', P .. 'hn', P .. 'cn', P .. 'tx', P .. 'cs'}
  for _, n in ipairs(redis.call('HKEYS', P .. 'rn')) do ks[#ks + 1] = P .. 'r:' .. n end
  for d = 1, depth_of(P) do
    ks[#ks + 1] = P .. 'tx:' .. d
    ks[#ks + 1] = P .. 'th:' .. d
  end
  for _, c in ipairs(redis.call('ZRANGE', P .. 'cs', 0, -1)) do
    ks[#ks + 1] = P .. 'cu:' .. c
    ks[#ks + 1] = P .. 'ci:' .. c
  end
  return ks
end
-- Redis TTLs are a backstop only (the checks above decide): a session's keys
-- live until its next timeout plus a margin, for the sweep to report it.
local function gc(P, now, nxt, margin, force, at_read)
  local want = nxt + margin
  local at = tonumber(at_read or redis.call('HGET', P .. 's', 'gc') or '0')
  if force or want - at > margin / 2 then
    for _, k in ipairs(keys_of(P)) do redis.call('PEXPIRE', k, int(want - now)) end
    redis.call('HSET', P .. 's', 'gc', int(want))
  end
end
-- keys created after the last gc() get the session's deadline too
local function gc_key(P, now, ...)
  local at = tonumber(redis.call('HGET', P .. 's', 'gc') or '0')
  if at > now then for _, k in ipairs({...}) do redis.call('PEXPIRE', k, int(at - now)) end end
end
local function remove_session(P)
  local held = redis.call('SMEMBERS', P .. 'hn')
  redis.call('DEL', unpack(keys_of(P)))
  return held
end
local function split0(m)
  local i = string.find(m, '\\0', 1, true)
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
-- drops expired records first, so reads and counts see live data only;
-- the cost follows what expired
local function prune(P, now)
  local due = redis.call('ZRANGEBYSCORE', P .. 'rx', '-inf', now)
  for _, m in ipairs(due) do
    local name, key = split0(m)
    if redis.call('HDEL', P .. 'r:' .. name, key) == 1 then
      if redis.call('HINCRBY', P .. 'rn', name, -1) <= 0 then redis.call('HDEL', P .. 'rn', name) end
    end
  end
  if #due > 0 then redis.call('ZREMRANGEBYSCORE', P .. 'rx', '-inf', now) end
end
local function version_of(enc) return tonumber(string.match(enc, '^%a|(%d+)|')) end
local function kind_of(enc) if string.sub(enc, 1, 1) == 's' then return 'single' end return 'multiple' end
local function exp_of(enc) return string.match(enc, '^%a|%d+|%d+|%d*|(%d*)|') end
-- A scope's rows (tx:<d>, a hash 'name\\0key' -> row): a row is an encoded record
-- (put), 'del' (one entry deleted) or, under the key '/', 'drop' (the whole name
-- dropped: it hides every lower layer of that name). See core/scopes.ts.
local function drop_rows(k, name)
  for _, m in ipairs(redis.call('HKEYS', k)) do
    if split0(m) == name then redis.call('HDEL', k, m) end
  end
end
-- What the session sees (core/scopes.ts overlay): the committed records (pruned
-- first) with each depth's rows applied, drops first; live entries only.
-- name nil: every record. Answers name -> { key -> encoded }.
local function view(P, depth, name, now)
  local names = {}
  local base = {name}
  if not name then base = redis.call('HKEYS', P .. 'rn') end
  for _, n in ipairs(base) do
    local all = redis.call('HGETALL', P .. 'r:' .. n)
    if #all > 0 then
      local m = {}
      for i = 1, #all, 2 do m[all[i]] = all[i + 1] end
      names[n] = m
    end
  end
  for d = 1, depth do
    local rows = redis.call('HGETALL', P .. 'tx:' .. d)
    for pass = 1, 2 do
      for i = 1, #rows, 2 do
        local n, k = split0(rows[i])
        local row = rows[i + 1]
        if not name or n == name then
          if pass == 1 then
            if row == 'drop' then names[n] = nil end
          elseif row == 'del' then
            if names[n] then names[n][k] = nil end
          elseif row ~= 'drop' then
            names[n] = names[n] or {}
            names[n][k] = row
          end
        end
      end
    end
  end
  local out = {}
  for n, m in pairs(names) do
    for k, e in pairs(m) do
      local exp = exp_of(e)
      if exp == '' or tonumber(exp) > now then
        out[n] = out[n] or {}
        out[n][k] = e
      end
    end
  end
  return out
end
-- the new key's hash, the one it replaces first among the superseded; kh and sup when
-- the caller read them, and more fields to set in the same HSET
local function new_key(P, s, presented_new, grace_until, salt, kh, sup, ...)
  kh = kh or redis.call('HGET', s, 'kh')
  sup = kh .. (sup or redis.call('HGET', s, 'sup') or '')
  redis.call('HSET', s, 'kh', presented_new, 'sup', string.sub(sup, 1, 32 * 16), 'gu', int(grace_until), 'gs', salt, ...)
end
local P = string.sub(KEYS[1], 1, -2)
local now = clock(ARGV[1])
`;

/** The top-level definitions of HELPERS, each with the comment lines above it and the name it defines. */
const chunks: { name: string; code: string[] }[] = [];
let comments: string[] = [];
for (const line of HELPERS.split('\n')) {
  const def = /^local (?:function )?(\w+)/.exec(line);
  if (def) {
    chunks.push({ name: def[1], code: [...comments, line] });
    comments = [];
  } else if (line.startsWith('--')) comments.push(line);
  else if (chunks.length > 0) chunks[chunks.length - 1].code.push(line);
}
const names = (code: string, name: string) => new RegExp(`(?<![\\w.'"])${name}(?![\\w'"])`).test(code);
const built = new Map<string, string>();

/** A session script: `body` after the helpers it uses. The same string for the same body (the client keys its SHA by it). */
export function sessionScript(body: string): string {
  let full = built.get(body);
  if (full !== undefined) return full;
  const used = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    const text = [body, ...chunks.filter((c) => used.has(c.name)).flatMap((c) => c.code)].join('\n').replace(/--.*$/gm, '');
    for (const c of chunks) {
      if (!used.has(c.name) && names(text, c.name)) { used.add(c.name); grew = true; }
    }
  }
  full = [...chunks.filter((c) => used.has(c.name)).flatMap((c) => c.code), body].join('\n');
  built.set(body, full);
  return full;
}

/**
 * ARGV: now, client, rotation, queue, idle, life, created, last, next, expires, user, userName, keyHash, margin.
 * Does what gc(..., force) would, for a new session whose only key is its hash.
 */
export const CREATE = `
local want = tonumber(ARGV[9]) + tonumber(ARGV[14])
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'rotation', ARGV[3], 'queue', ARGV[4], 'idle', ARGV[5], 'life', ARGV[6],
  'created', ARGV[7], 'last', ARGV[8], 'next', ARGV[9], 'expires', ARGV[10], 'user', ARGV[11], 'un', ARGV[12],
  'kh', ARGV[13], 'sup', '', 'gu', '0', 'gs', '', 'gc', int(want))
redis.call('PEXPIRE', KEYS[1], int(want - now))
return 1
`;

/** ARGV: now. The session's fields, or nil. */
export const GET = `
local f = fields(KEYS[1])
if not is_live(f, now) then return nil end
return f
`;

/**
 * The authentication of ARGV[2..7]: presented hash, client ('' = any), new
 * hash ('' = no rotation), salt (hex), graceMs, margin. Answers {outcome,
 * fields..., extra, scopes}.
 */
const AUTH_FN = `
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
    if at == 0 and now < tonumber(k[3]) and k[4] ~= '' then check = 'grace'
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
    new_key(P, s, ARGV[4], now + tonumber(ARGV[6]), ARGV[5], k[1], k[2] or '', 'last', int(now), 'next', int(nxt))
    rotated = true
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
  -- scopes: '1' when the session has scopes open or an abort to report (the request must enter them)
  return append({check}, append(f, {extra, tostring(redis.call('EXISTS', P .. 'tx'))}))
end
`;

/** ARGV: now, then authenticate's. Answers {outcome, fields..., extra, scopes}. */
export const AUTHENTICATE = AUTH_FN + `
return authenticate()
`;

/** ARGV: now, margin. Records an access without a key (a portal's keep-alive): the session's fields, or nil. */
export const TOUCH = `
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) then return nil end
local nxt = math.min(now + tonumber(f[4]) * 1000, tonumber(f[6]) + tonumber(f[5]) * 1000)
redis.call('HSET', s, 'last', int(now), 'next', int(nxt))
f[7] = int(now)
f[8] = int(nxt)
gc(P, now, nxt, tonumber(ARGV[2]), false)
return f
`;

/**
 * ARGV: now, new hash, user JSON ('' = none), user name, login epoch ('' when
 * not a login). New key with no grace, the user set, a pending role change
 * dropped (or taken, when it is newer than the login's read of the user).
 * Answers {fields..., previous user name}, or nil.
 */
export const CHANGE_PRIVILEGE = `
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) then return nil end
local k = redis.call('HMGET', s, 'un', 'pend', 'pn', 'pe')
local user = ARGV[3]
if ARGV[5] ~= '' and k[2] and k[3] == ARGV[4] and tonumber(k[4]) > tonumber(ARGV[5]) then user = k[2] end
redis.call('HDEL', s, 'pend', 'pn', 'pe')
new_key(P, s, ARGV[2], 0, '')
redis.call('HSET', s, 'user', user, 'un', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', s, 'ue', ARGV[5]) end
f[10] = user
return append(f, {k[1] or ''})
`;

/** ARGV: now, user name, user JSON, epoch. A role change on a live session of that user, marked pending. */
export const SET_ROLES = `
local s = KEYS[1]
local f = fields(s)
if not is_live(f, now) or redis.call('HGET', s, 'un') ~= ARGV[2] then return 0 end
redis.call('HSET', s, 'user', ARGV[3], 'pend', ARGV[3], 'pn', ARGV[2], 'pe', ARGV[4])
return 1
`;

/**
 * ARGV: now, mode ('any' | 'expired' | 'user'), user name (mode 'user').
 * Its scopes and cursors go with its other keys (keys_of).
 * Ends the session: {'ended', fields..., user name, held names...};
 * {'live', next} when mode 'expired' finds it alive; nil when absent.
 */
export const END = `
local s = KEYS[1]
local f = fields(s)
if not f[8] then return nil end
if ARGV[2] == 'expired' and tonumber(f[8]) > now then return {'live', f[8]} end
local un = redis.call('HGET', s, 'un') or ''
if ARGV[2] == 'user' and (un ~= ARGV[3] or not is_live(f, now)) then return nil end
local held = remove_session(P)
return append(append({'ended'}, f), append({un}, held))
`;

/**
 * A record write on a live session whose scopes are `depth` deep: ARGV[o+1
 * .. o+8] are name, key ('' for a single record), kind, value, ttlMs (''),
 * ifVersion (''), maxEntries, maxRecords. {'ok', version, updatedAt, expiresAt} or {'reject', liveKind,
 * currentVersion, liveEntries, liveRecords}. With a scope open, checked
 * against what the session sees and written into the innermost scope; a
 * write that starts the name fresh also drops it there.
 */
const PUT_FN = `
local function put_record(o, depth)
  prune(P, now)
  local name, key, kind, value, ttl, ifv = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6]
  local rk = P .. 'r:' .. name
  local cur, n, lk, records
  if depth == 0 then
    cur = redis.call('HGET', rk, key)
    n = tonumber(redis.call('HGET', P .. 'rn', name) or '0')
    lk, records = '', 0
    if cur then lk = kind_of(cur)
    elseif n > 0 then if redis.call('HEXISTS', rk, '') == 1 then lk = 'single' else lk = 'multiple' end end
    -- the record count matters only to a name with no live entry (as in the scoped branch)
    if n == 0 then records = redis.call('HLEN', P .. 'rn') end
  else
    local seen = view(P, depth, name, now)[name] or {}
    cur, n, lk, records = seen[key], 0, '', 0
    for _, e in pairs(seen) do
      n = n + 1
      lk = kind_of(e)
    end
    if n == 0 then for _ in pairs(view(P, depth, nil, now)) do records = records + 1 end end
  end
  local cv = 0
  if cur then cv = version_of(cur) end
  if (lk ~= '' and lk ~= kind) or (ifv ~= '' and tonumber(ifv) ~= cv) or (lk == '' and records >= tonumber(ARGV[o + 8]))
    or (kind == 'multiple' and cv == 0 and n >= tonumber(ARGV[o + 7])) then
    return {'reject', lk, cv, n, records}
  end
  local v = cv + 1
  local exp = ''
  if ttl ~= '' then exp = int(now + tonumber(ttl)) end
  local enc = string.sub(kind, 1, 1) .. '|' .. v .. '|' .. int(now) .. '|' .. ttl .. '|' .. exp .. '|' .. value
  if depth > 0 then
    local top = P .. 'tx:' .. depth
    if n == 0 then
      drop_rows(top, name)
      redis.call('HSET', top, name .. '\\0/', 'drop')
    end
    redis.call('HSET', top, name .. '\\0' .. key, enc)
    gc_key(P, now, top)
    return {'ok', v, int(now), exp}
  end
  redis.call('HSET', rk, key, enc)
  if not cur then redis.call('HINCRBY', P .. 'rn', name, 1) end
  -- rx holds exactly the live entries that have an expiry
  local m = name .. '\\0' .. key
  if exp ~= '' then redis.call('ZADD', P .. 'rx', exp, m)
  elseif cur and exp_of(cur) ~= '' then redis.call('ZREM', P .. 'rx', m) end
  -- a key this write may have created gets the session's Redis TTL (rk and rn exist while the name has live entries)
  if n == 0 and exp ~= '' then gc_key(P, now, rk, P .. 'rn', P .. 'rx')
  elseif n == 0 then gc_key(P, now, rk, P .. 'rn')
  elseif exp ~= '' then gc_key(P, now, P .. 'rx') end
  return {'ok', v, int(now), exp}
end
`;

/** ARGV: now, then put_record's. */
export const PUT_RECORD = PUT_FN + `
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
return put_record(1, depth_of(P))
`;

/**
 * A PUT of a record in one step (AuthRequest.write). ARGV: now,
 * authenticate's six, then put_record's eight. Answers authenticate's reply,
 * followed by put_record's {'ok', ...} when the key was accepted, the session
 * has no scope state and the write passed; else nothing is written.
 */
export const AUTHENTICATE_PUT = AUTH_FN + PUT_FN + `
local a = authenticate()
if (a[1] == 'current' or a[1] == 'grace') and a[#a] == '0' then
  local w = put_record(7, 0) -- no scope state: depth 0
  if w[1] == 'ok' then append(a, w) end
end
return a
`;

/** ARGV: now, name ('' = every record). {'ok', name, key, encoded, ...}: with a scope open, what the session sees. */
export const READ_RECORDS = `
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
`;

/**
 * ARGV: now, name, key ('' = the whole record), ifVersion ('').
 * {'ok', 1|0} or {'reject', kind, version} (Node's checkDelete throws). With a
 * scope open, checked against what the session sees and written into the
 * innermost scope as a 'del' row (an entry) or a 'drop' row (the whole name).
 */
export const DELETE_RECORD = `
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
prune(P, now)
local name, key, ifv = ARGV[2], ARGV[3], ARGV[4]
local rk = P .. 'r:' .. name
local depth = depth_of(P)
if depth > 0 then
  local seen = view(P, depth, name, now)[name]
  local top = P .. 'tx:' .. depth
  if key == '' then
    if not seen then return {'ok', 0} end
    local _, e = next(seen)
    if ifv ~= '' and (kind_of(e) == 'multiple' or version_of(e) ~= tonumber(ifv)) then return {'reject', kind_of(e), version_of(e)} end
    drop_rows(top, name)
    redis.call('HSET', top, name .. '\\0/', 'drop')
  else
    local e = seen and seen[key]
    if not e or kind_of(e) ~= 'multiple' then return {'ok', 0} end
    if ifv ~= '' and version_of(e) ~= tonumber(ifv) then return {'reject', 'multiple', version_of(e)} end
    redis.call('HSET', top, name .. '\\0' .. key, 'del')
  end
  gc_key(P, now, top)
  return {'ok', 1}
end
if key == '' then
  if redis.call('EXISTS', rk) == 0 then return {'ok', 0} end
  local single = redis.call('HGET', rk, '')
  if ifv ~= '' then
    if not single then return {'reject', 'multiple', 0} end
    if version_of(single) ~= tonumber(ifv) then return {'reject', 'single', version_of(single)} end
  end
  for _, k in ipairs(redis.call('HKEYS', rk)) do redis.call('ZREM', P .. 'rx', name .. '\\0' .. k) end
  redis.call('DEL', rk)
  redis.call('HDEL', P .. 'rn', name)
  return {'ok', 1}
end
local cur = redis.call('HGET', rk, key)
if not cur then return {'ok', 0} end
if ifv ~= '' and version_of(cur) ~= tonumber(ifv) then return {'reject', 'multiple', version_of(cur)} end
redis.call('HDEL', rk, key)
redis.call('ZREM', P .. 'rx', name .. '\\0' .. key)
if redis.call('HINCRBY', P .. 'rn', name, -1) <= 0 then redis.call('HDEL', P .. 'rn', name) end
return {'ok', 1}
`;

/** ARGV: now. Restarts the expiry clock of every live record with a ttl, and of every such entry buffered in a scope. */
export const TOUCH_RECORDS = `
local f = fields(KEYS[1])
if not is_live(f, now) then return {'invalid'} end
prune(P, now)
for d = 1, depth_of(P) do
  local k = P .. 'tx:' .. d
  local rows = redis.call('HGETALL', k)
  for i = 1, #rows, 2 do
    local e = rows[i + 1]
    if e ~= 'del' and e ~= 'drop' then
      local kind, v, at, ttl, exp, rest = string.match(e, '^(%a)|(%d+)|(%d+)|(%d*)|(%d*)|()')
      if ttl ~= '' and tonumber(exp) > now then
        redis.call('HSET', k, rows[i], kind .. '|' .. v .. '|' .. at .. '|' .. ttl .. '|' .. int(now + tonumber(ttl)) .. '|' .. string.sub(e, rest))
      end
    end
  end
end
for _, m in ipairs(redis.call('ZRANGE', P .. 'rx', 0, -1)) do
  local name, key = split0(m)
  local rk = P .. 'r:' .. name
  local enc = redis.call('HGET', rk, key)
  if enc then
    local kind, v, at, ttl, _, rest = string.match(enc, '^(%a)|(%d+)|(%d+)|(%d+)|(%d*)|()')
    local exp = int(now + tonumber(ttl))
    redis.call('HSET', rk, key, kind .. '|' .. v .. '|' .. at .. '|' .. ttl .. '|' .. exp .. '|' .. string.sub(enc, rest))
    redis.call('ZADD', P .. 'rx', exp, m)
  end
end
return {'ok'}
`;

/**
 * Transfer, first half (on the old session): everything it has, and the old
 * session's keys deleted. {fields..., user, userName, names of holds, '', names of claims, '', name, key, encoded...}
 */
export const TAKE_SESSION = `
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
`;

/**
 * Transfer, second half (on the new session): ARGV: now, the CREATE fields
 * (2..14; last and next are computed here: the access is now), held count, names..., claimed count, names..., then name, key, encoded triples.
 */
export const PUT_SESSION = `
local nxt = math.min(now + tonumber(ARGV[5]) * 1000, tonumber(ARGV[7]) + tonumber(ARGV[6]) * 1000)
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'rotation', ARGV[3], 'queue', ARGV[4], 'idle', ARGV[5], 'life', ARGV[6],
  'created', ARGV[7], 'last', int(now), 'next', int(nxt), 'expires', ARGV[10], 'user', ARGV[11], 'un', ARGV[12],
  'kh', ARGV[13], 'sup', '', 'gu', '0', 'gs', '')
local i = 15
local nh = tonumber(ARGV[i])
for j = 1, nh do redis.call('SADD', P .. 'hn', ARGV[i + j]) end
i = i + nh + 1
local nc = tonumber(ARGV[i])
for j = 1, nc do redis.call('SADD', P .. 'cn', ARGV[i + j]) end
i = i + nc + 1
while i + 2 <= #ARGV do
  local name, key, enc = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('HSET', P .. 'r:' .. name, key, enc)
  redis.call('HINCRBY', P .. 'rn', name, 1)
  local exp = string.match(enc, '^%a|%d+|%d+|%d*|(%d*)|')
  if exp ~= '' then redis.call('ZADD', P .. 'rx', exp, name .. '\\0' .. key) end
  i = i + 3
end
gc(P, now, nxt, tonumber(ARGV[14]), true)
return fields(KEYS[1])
`;

/** Session side of holds. ARGV: now, 'add'|'remove', names... 'add' answers 0 when the session is not live. */
export const SESSION_HOLD_NAMES = `
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
`;

/** ARGV: now. The live session's names of holds and of claims: {holds..., '', claims...}, or nil. */
export const SESSION_HOLDINGS = `
local f = fields(KEYS[1])
if not is_live(f, now) then return nil end
local out = redis.call('SMEMBERS', P .. 'hn')
out[#out + 1] = ''
return append(out, redis.call('SMEMBERS', P .. 'cn'))
`;

/** Index buckets (KEYS: t, i): ARGV: now, 'add'|'del'|'at', id, score. */
export const INDEX = `
if ARGV[2] == 'add' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  redis.call('ZADD', KEYS[2], 0, ARGV[3])
elseif ARGV[2] == 'at' then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[3])
else
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return 1
`;
