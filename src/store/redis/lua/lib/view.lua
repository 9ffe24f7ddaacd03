-- @include split0
-- @include record
-- What the session sees (core/transactions.ts overlay): the committed records (pruned
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
