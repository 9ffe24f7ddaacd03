-- the session's fields, in the order codec.ts (decodeSession) reads them
local SF = {'client','rotation','queue','idle','life','created','last','next','expires','user'}
local function fields(s) return redis.call('HMGET', s, unpack(SF)) end
