-- KEYS[1]: the session's hash. ARGV: now, added units of a pool ('' for
-- resources), then per hold: name, token, quantity (''), fresh ('1'|'0'). Notes
-- in the innermost transaction what a hold step gave (core/transactions.ts noteHeld):
-- a fresh grant is the transaction's, units added to a pool hold are the
-- transaction's.
-- @include session
-- @include depth
-- @include gc_key
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
