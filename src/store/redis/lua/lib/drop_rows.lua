-- @include split0
-- A transaction's rows (tx:<d>, a hash 'name\0key' -> row): a row is an encoded record
-- (put), 'del' (one entry deleted) or, under the key '/', 'drop' (the whole name
-- dropped: it hides every lower layer of that name). See core/transactions.ts.
local function drop_rows(k, name)
  for _, m in ipairs(redis.call('HKEYS', k)) do
    if split0(m) == name then redis.call('HDEL', k, m) end
  end
end
