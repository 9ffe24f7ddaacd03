-- @include depth
-- every key a session owns: its records' hashes are listed in rn, its transactions' rows and
-- hold notes are tx:<d> and th:<d> up to its depth, its cursors are listed in cs
local function keys_of(P)
  local ks = {P .. 's', P .. 'rn', P .. 'rx', P .. 'rb', P .. 'hn', P .. 'cn', P .. 'tx', P .. 'cs'}
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
