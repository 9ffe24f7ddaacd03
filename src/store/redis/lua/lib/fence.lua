-- @include group
-- the last token granted on a name
local function fence(name) return tonumber(redis.call('HGET', G .. 'fence', name) or '0') end
