-- @include session
-- @include append
-- @include gc_key
-- A session's transactions (core/transactions.ts has the rules), under its own keys:
--
--   tx       hash depth, deadline, aborted: present while transactions are open, or
--            while an idle rollback by the sweep is not yet reported
--   tx:<d>   the rows of depth d: 'name\0key' -> encoded record | 'del' | 'drop'
--   th:<d>   the holds depth d took: name -> token|quantity (quantity '' for a resource)
--
-- All of them are in keys_of(), so ending, expiring, revoking and transferring
-- a session, and its Redis TTL backstop, cover them. The holds a discarded
-- transaction took are answered as notes (name, token|quantity) and released
-- after by one script per resource group (holds/release_noted.lua).
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
