-- KEYS[1]: the session's hash. ARGV: now, timeoutMs. Depth d > 1 merges into
-- d - 1 (a drop replaces the parent's rows of its name; notes join the
-- parent's); depth 1 applies every row to the records, drops first, here, in
-- this one script. {'ok', depth left}, {'none'} or {'invalid'}.
-- @include transaction
-- @include fields
-- @include live
-- @include depth
-- @include prune
-- @include split0
-- @include drop_rows
-- @include record
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
  local rn, rx, rb = P .. 'rn', P .. 'rx', P .. 'rb'
  for i = 1, #rows, 2 do redis.call('HDEL', rb, (split0(rows[i]))) end -- byte figures of the names written: counted again when needed
  for i = 1, #rows, 2 do
    if rows[i + 1] == 'drop' then
      local name = split0(rows[i])
      local rk = P .. 'r:' .. name
      for _, k in ipairs(redis.call('HKEYS', rk)) do redis.call('ZREM', rx, name .. '\0' .. k) end
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
