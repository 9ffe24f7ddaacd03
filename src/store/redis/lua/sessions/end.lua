-- KEYS[1]: the session's hash. ARGV: now, mode ('any' | 'expired' | 'user'),
-- user name (mode 'user'). Its transactions and cursors go with its other keys
-- (keys_of). Ends the session: {'ended', fields..., user name, held names...};
-- {'live', next} when mode 'expired' finds it alive; nil when absent.
-- @include session
-- @include fields
-- @include live
-- @include append
-- @include remove_session
local s = KEYS[1]
local f = fields(s)
if not f[8] then return nil end
if ARGV[2] == 'expired' and tonumber(f[8]) > now then return {'live', f[8]} end
local un = redis.call('HGET', s, 'un') or ''
if ARGV[2] == 'user' and (un ~= ARGV[3] or not is_live(f, now)) then return nil end
local held = remove_session(P)
return append(append({'ended'}, f), append({un}, held))
