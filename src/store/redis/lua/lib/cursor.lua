-- @include session
-- A session's cursors, under its own keys:
--
--   cs       sorted set cursor id -> deadline
--   cu:<c>   hash of a cursor: name, size (page), total, pos, tmo, dl (deadline)
--   ci:<c>   list of its items, each 'key\0encoded record' (codec.ts)
--
-- All of them are in keys_of().
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
