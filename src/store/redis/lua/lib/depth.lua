-- the depth of the session's open transactions (0: none; the head tx holds depth, deadline, aborted)
local function depth_of(P) return tonumber(redis.call('HGET', P .. 'tx', 'depth') or '0') end
