-- @include session
-- @include depth
-- @include prune
-- @include record
-- @include view
-- @include drop_rows
-- @include gc_key
-- A record write on a live session whose transactions are `depth` deep: ARGV[o+1
-- .. o+9] are name, key ('' for a single record), kind, value, ttlMs (''),
-- ifVersion (''), maxEntries, maxRecords, maxRecordBytes. {'ok', version, updatedAt, expiresAt} or {'reject', liveKind,
-- currentVersion, liveEntries, liveRecords, currentBytes, liveBytes}. With a transaction open, checked
-- against what the session sees and written into the innermost one; a
-- write that starts the name fresh also drops it there.
-- The rules are core/records.ts planWrite's (Node asks it on a refusal, for the
-- error); test/records-rules.test.ts holds the two together.
local function put_record(o, depth)
  prune(P, now)
  local name, key, kind, value, ttl, ifv = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6]
  local rk = P .. 'r:' .. name
  local cur, n, lk, records, all
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
    if n == 0 then
      all = view(P, depth, nil, now)
      for _ in pairs(all) do records = records + 1 end
    end
  end
  local cv, cb = 0, 0
  if cur then cv, cb = version_of(cur), value_bytes(cur) end
  -- the bytes of every live value matter only to a write that grows its entry. At
  -- depth 0 they are summed per name from `rb` (name -> bytes of its values), which
  -- holds a name only while exact: a step that changes a name's entries otherwise
  -- (prune, delete, commit) drops its field, and the sum counts the values of a
  -- name it lacks (after prune, everything stored is live) and keeps the figure
  local bytes, rb, grows = 0, P .. 'rb', #value > cb
  if grows then
    if depth == 0 then
      local have, made = {}, false
      local t = redis.call('HGETALL', rb)
      for i = 1, #t, 2 do have[t[i]] = tonumber(t[i + 1]) end
      for _, nm in ipairs(redis.call('HKEYS', P .. 'rn')) do
        local b = have[nm]
        if not b then
          b = 0
          for _, e in ipairs(redis.call('HVALS', P .. 'r:' .. nm)) do b = b + value_bytes(e) end
          redis.call('HSET', rb, nm, b)
          made = true
        end
        bytes = bytes + b
      end
      if made then gc_key(P, now, rb) end
    else
      for _, m in pairs(all or view(P, depth, nil, now)) do for _, e in pairs(m) do bytes = bytes + value_bytes(e) end end
    end
  end
  if (lk ~= '' and lk ~= kind) or (ifv ~= '' and tonumber(ifv) ~= cv) or (lk == '' and records >= tonumber(ARGV[o + 8]))
    or (kind == 'multiple' and cv == 0 and n >= tonumber(ARGV[o + 7]))
    or (#value > cb and bytes - cb + #value > tonumber(ARGV[o + 9])) then
    return {'reject', lk, cv, n, records, cb, bytes}
  end
  local v = cv + 1
  local exp = ''
  if ttl ~= '' then exp = int(now + tonumber(ttl)) end
  local enc = encode_record(kind, v, int(now), ttl, exp, value)
  if depth > 0 then
    local top = P .. 'tx:' .. depth
    if n == 0 then
      drop_rows(top, name)
      redis.call('HSET', top, name .. '\0/', 'drop')
    end
    redis.call('HSET', top, name .. '\0' .. key, enc)
    gc_key(P, now, top)
    return {'ok', v, int(now), exp}
  end
  redis.call('HSET', rk, key, enc)
  if not cur then redis.call('HINCRBY', P .. 'rn', name, 1) end
  -- rb: a fresh name's figure is this value; else kept exact where it is held
  if n == 0 then redis.call('HSET', rb, name, #value)
  elseif #value ~= cb and (grows or redis.call('HEXISTS', rb, name) == 1) then redis.call('HINCRBY', rb, name, #value - cb) end
  -- rx holds exactly the live entries that have an expiry
  local m = name .. '\0' .. key
  if exp ~= '' then redis.call('ZADD', P .. 'rx', exp, m)
  elseif cur and exp_of(cur) ~= '' then redis.call('ZREM', P .. 'rx', m) end
  -- a key this write may have created gets the session's Redis TTL (rk and rn exist while the name has live entries)
  if n == 0 and exp ~= '' then gc_key(P, now, rk, P .. 'rn', P .. 'rx', rb)
  elseif n == 0 then gc_key(P, now, rk, P .. 'rn', rb)
  elseif exp ~= '' then gc_key(P, now, P .. 'rx') end
  return {'ok', v, int(now), exp}
end
