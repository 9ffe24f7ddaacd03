-- An index bucket of sessions (KEYS: t, by next timeout; i, by id).
-- ARGV: now, 'add'|'del'|'at', id, score.
if ARGV[2] == 'add' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  redis.call('ZADD', KEYS[2], 0, ARGV[3])
elseif ARGV[2] == 'at' then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[3])
else
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
return 1
