-- A deadline index bucket (KEYS[1], a sorted set; the transaction and cursor
-- sweeps): ARGV: member, score seen. Drops the member only if its score is
-- still the one the sweep saw, so an entry written again meanwhile (a new
-- transaction opened) stays.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
