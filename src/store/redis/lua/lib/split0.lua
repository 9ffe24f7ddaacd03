-- 'name\0key' -> name, key
local function split0(m)
  local i = string.find(m, '\0', 1, true)
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
