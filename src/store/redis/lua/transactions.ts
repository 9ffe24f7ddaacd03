/**
 * Lua of the Redis engine for scopes (section 6) and cursors (section 7).
 * Like redis-lua.ts, every script touches the keys of ONE session (`{id}`
 * hash tag; redis-lua.ts's helpers are prepended (sessionScript), KEYS[1] is its `s` hash, ARGV[1] the time).
 * The session's scope keys:
 *
 *   tx       hash depth, deadline, aborted: present while scopes are open, or
 *            while an idle rollback by the sweep is not yet reported
 *   tx:<d>   the rows of depth d: 'name\0key' -> encoded record | 'del' | 'drop'
 *   th:<d>   the holds depth d took: name -> token|quantity (quantity '' for a resource)
 *   cs       sorted set cursor id -> deadline
 *   cu:<c>   hash of a cursor: name, size (page), total, pos, tmo, dl (deadline)
 *   ci:<c>   list of its items, each 'key\0encoded record'
 *
 * All of them are in keys_of(), so ending, expiring, revoking and transferring
 * a session, and its Redis TTL backstop, cover them. The rules are
 * core/scopes.ts's; the holds a discarded scope took are answered as notes
 * (name, token, quantity) and released by one script per resource group after
 * (redis-holds-lua.ts RELEASE_NOTED).
 */

/** Helpers of the scope scripts (after the session helpers). */
export const SCOPES_COMMON = `
local X = P .. 'tx'
-- discards depths from..depth, innermost first: deletes their rows and answers their hold notes (name, token|quantity, ...)
local function discard(from, depth)
  local notes = {}
  for d = depth, from, -1 do
    append(notes, redis.call('HGETALL', P .. 'th:' .. d))
    redis.call('DEL', P .. 'tx:' .. d, P .. 'th:' .. d)
  end
  return notes
end
-- the head after a step: none left (and nothing to report) removes it
local function set_head(depth, deadline)
  if depth == 0 then redis.call('DEL', X) else
    redis.call('HSET', X, 'depth', depth, 'deadline', int(deadline))
    gc_key(P, now, X)
  end
end
`;

/**
 * At the start of a request. ARGV: now, timeoutMs. Past the deadline every
 * scope is rolled back: {'aborted', 0, notes...}; else the deadline moves and
 * a report left by the sweep is taken: {'aborted' | 'ok', depth}.
 */
export const ENTER = `
local h = redis.call('HMGET', X, 'depth', 'deadline', 'aborted')
if not h[1] then return {'ok', 0} end
local depth = tonumber(h[1])
if depth > 0 and tonumber(h[2]) <= now then
  local notes = discard(1, depth)
  redis.call('DEL', X)
  return append({'aborted', 0}, notes)
end
local state = 'ok'
if h[3] == '1' then state = 'aborted' end
redis.call('HSET', X, 'aborted', '0')
set_head(depth, now + tonumber(ARGV[2]))
return {state, depth}
`;

/** ARGV: now, timeoutMs, maxDepth. {'ok', depth, deadline}, {'limit'} or {'invalid'}. */
export const OPEN = `
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
local depth = depth_of(P)
if depth >= tonumber(ARGV[3]) then return {'limit'} end
local deadline = now + tonumber(ARGV[2])
redis.call('HSET', X, 'aborted', '0')
set_head(depth + 1, deadline)
return {'ok', depth + 1, int(deadline)}
`;

/**
 * ARGV: now, timeoutMs. Depth d > 1 merges into d - 1 (a drop replaces the
 * parent's rows of its name; notes join the parent's); depth 1 applies every
 * row to the records, drops first, here, in this one script.
 * {'ok', depth left}, {'none'} or {'invalid'}.
 */
export const COMMIT = `
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
prune(P, now)
local depth = depth_of(P)
if depth == 0 then return {'none'} end
local rows = redis.call('HGETALL', P .. 'tx:' .. depth)
if depth > 1 then
  local parent, pnotes = P .. 'tx:' .. (depth - 1), P .. 'th:' .. (depth - 1)
  for i = 1, #rows, 2 do if rows[i + 1] == 'drop' then drop_rows(parent, (split0(rows[i]))) end end
  for i = 1, #rows, 2 do redis.call('HSET', parent, rows[i], rows[i + 1]) end
  local notes = redis.call('HGETALL', P .. 'th:' .. depth)
  for i = 1, #notes, 2 do
    local name, token, qty = notes[i], string.match(notes[i + 1], '^(%d+)|(%d*)$')
    local p = redis.call('HGET', pnotes, name)
    local ptoken, pqty = nil, nil
    if p then ptoken, pqty = string.match(p, '^(%d+)|(%d*)$') end
    if ptoken ~= token then redis.call('HSET', pnotes, name, notes[i + 1])
    elseif pqty ~= '' and qty ~= '' then redis.call('HSET', pnotes, name, token .. '|' .. int(tonumber(pqty) + tonumber(qty))) end
  end
  gc_key(P, now, parent)
  gc_key(P, now, pnotes)
else
  local rn, rx = P .. 'rn', P .. 'rx'
  for i = 1, #rows, 2 do
    if rows[i + 1] == 'drop' then
      local name = split0(rows[i])
      local rk = P .. 'r:' .. name
      for _, k in ipairs(redis.call('HKEYS', rk)) do redis.call('ZREM', rx, name .. '\\0' .. k) end
      redis.call('DEL', rk)
      redis.call('HDEL', rn, name)
    end
  end
  for i = 1, #rows, 2 do
    local name, key = split0(rows[i])
    local row, rk, m = rows[i + 1], P .. 'r:' .. name, rows[i]
    if row == 'del' then
      if redis.call('HDEL', rk, key) == 1 and redis.call('HINCRBY', rn, name, -1) <= 0 then redis.call('HDEL', rn, name) end
      redis.call('ZREM', rx, m)
    elseif row ~= 'drop' then
      if redis.call('HSET', rk, key, row) == 1 then redis.call('HINCRBY', rn, name, 1) end
      local exp = exp_of(row)
      if exp ~= '' then redis.call('ZADD', rx, exp, m) else redis.call('ZREM', rx, m) end
      gc_key(P, now, rk)
    end
  end
  gc_key(P, now, rn)
  gc_key(P, now, rx)
end
redis.call('DEL', P .. 'tx:' .. depth, P .. 'th:' .. depth)
set_head(depth - 1, now + tonumber(ARGV[2]))
return {'ok', depth - 1}
`;

/** ARGV: now, all ('1': every scope), timeoutMs. {'ok', depth left, notes...}, {'none'} or {'invalid'}. */
export const ROLLBACK = `
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
local depth = depth_of(P)
if depth == 0 then return {'none'} end
local from = depth
if ARGV[2] == '1' then from = 1 end
local notes = discard(from, depth)
set_head(from - 1, now + tonumber(ARGV[3]))
return append({'ok', from - 1}, notes)
`;

/**
 * ARGV: now, added units of a pool ('' for resources), then per hold: name,
 * token, quantity (''), fresh ('1'|'0'). Notes in the innermost scope what a
 * hold step gave (core/scopes.ts noteHeld): a fresh grant is the scope's,
 * units added to a pool hold are the scope's.
 */
export const NOTE_HOLDS = `
local depth = depth_of(P)
if depth == 0 then return 0 end
local k, added = P .. 'th:' .. depth, ARGV[2]
for i = 3, #ARGV, 4 do
  local name, token, qty, fresh = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if fresh == '1' then redis.call('HSET', k, name, token .. '|' .. qty)
  elseif qty ~= '' and added ~= '' then
    local prev = 0
    local n = redis.call('HGET', k, name)
    if n then
      local t, q = string.match(n, '^(%d+)|(%d*)$')
      if t == token then prev = tonumber(q) or 0 end
    end
    redis.call('HSET', k, name, token .. '|' .. int(prev + tonumber(added)))
  end
end
gc_key(P, now, k)
return 1
`;

/** Before a transfer. ARGV: now. Every scope discarded and every cursor closed: {notes...}. */
export const END_SCOPES = `
local notes = discard(1, depth_of(P))
redis.call('DEL', X)
for _, c in ipairs(redis.call('ZRANGE', P .. 'cs', 0, -1)) do redis.call('DEL', P .. 'cu:' .. c, P .. 'ci:' .. c) end
redis.call('DEL', P .. 'cs')
return notes
`;

/**
 * The scope sweep, per session met in the deadline index. ARGV: now.
 * {'gone'} (no scope open: drop the entry), {'live', deadline} (moved since:
 * reschedule), or {'aborted', notes...}: rolled back, reported to the next request.
 */
export const SWEEP_SCOPES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local h = redis.call('HMGET', X, 'depth', 'deadline')
if not h[1] or tonumber(h[1]) == 0 then return {'gone'} end
if tonumber(h[2]) > now then return {'live', h[2]} end
local notes = discard(1, tonumber(h[1]))
redis.call('HSET', X, 'depth', 0, 'deadline', int(now), 'aborted', '1')
return append({'aborted'}, notes)
`;

// ---- cursors -------------------------------------------------------------------

/** Helpers of the cursor scripts (after the session helpers). */
export const CURSORS_COMMON = `
local CS = P .. 'cs'
local function close(c)
  redis.call('DEL', P .. 'cu:' .. c, P .. 'ci:' .. c)
  redis.call('ZREM', CS, c)
end
-- the cursor's hash if it is live; an expired one is removed on the way
local function live_cursor(c)
  local h = redis.call('HMGET', P .. 'cu:' .. c, 'size', 'total', 'pos', 'tmo', 'dl', 'name')
  if not h[1] then return nil end
  if tonumber(h[5]) <= now then
    close(c)
    return nil
  end
  return h
end
`;

/**
 * ARGV: now, cursor id, name, pageSize, timeoutMs, maxCursors, items ('key\0encoded')...
 * {'ok', deadline}, {'limit'} or {'invalid'}. Expired cursors of the session go first.
 */
export const OPEN_CURSOR = `
if not is_live(fields(KEYS[1]), now) then return {'invalid'} end
for _, c in ipairs(redis.call('ZRANGEBYSCORE', CS, '-inf', now)) do close(c) end
if redis.call('ZCARD', CS) >= tonumber(ARGV[6]) then return {'limit'} end
local c = ARGV[2]
local ck, ci = P .. 'cu:' .. c, P .. 'ci:' .. c
local deadline = now + tonumber(ARGV[5])
redis.call('DEL', ci)
for i = 7, #ARGV, 1000 do redis.call('RPUSH', ci, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
redis.call('HSET', ck, 'name', ARGV[3], 'size', ARGV[4], 'total', #ARGV - 6, 'pos', 0, 'tmo', ARGV[5], 'dl', int(deadline))
redis.call('ZADD', CS, int(deadline), c)
gc_key(P, now, ck)
gc_key(P, now, ci)
gc_key(P, now, CS)
return {'ok', int(deadline)}
`;

/** ARGV: now, cursor id, count ('' = its page size). {name, position, total, items...} moving position and deadline, or nil. */
export const READ_CURSOR = `
local c = ARGV[2]
local h = live_cursor(c)
if not h then return nil end
local count = tonumber(ARGV[3]) or tonumber(h[1])
local pos, total = tonumber(h[3]), tonumber(h[2])
local items = {}
if pos < total then items = redis.call('LRANGE', P .. 'ci:' .. c, pos, pos + count - 1) end
pos = pos + #items
local deadline = now + tonumber(h[4])
redis.call('HSET', P .. 'cu:' .. c, 'pos', pos, 'dl', int(deadline))
redis.call('ZADD', CS, int(deadline), c)
return append({h[6], pos, total}, items)
`;

/** ARGV: now, cursor id. 1 when it was live (now closed), else 0. */
export const CLOSE_CURSOR = `
if not live_cursor(ARGV[2]) then return 0 end
close(ARGV[2])
return 1
`;

/** The cursor sweep, per cursor met in the deadline index. ARGV: now, cursor id. {'gone'}, {'live', deadline} or {'expired'} (removed now). */
export const SWEEP_CURSOR = `
local dl = redis.call('HGET', P .. 'cu:' .. ARGV[2], 'dl')
if not dl then return {'gone'} end
if tonumber(dl) > now then return {'live', dl} end
close(ARGV[2])
return {'expired'}
`;

/**
 * A deadline index bucket (KEYS[1], a sorted set): ARGV: member, score seen.
 * Drops the member only if its score is still the one the sweep saw, so an
 * entry written again meanwhile (a new scope opened) stays.
 */
export const UNINDEX = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`;
