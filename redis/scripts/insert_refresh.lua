-- Stores a refresh token with its expiry as one write (one command, so a
-- connection that waits for replicas after each write covers it).
-- ARGV: 1 prefix, 2 jti, 3 family, 4 user, 5 expiry (µs), 6 TTL (s)
local key = ARGV[1] .. 'rt:' .. ARGV[2]
redis.call('HSET', key, 'family', ARGV[3], 'user', ARGV[4], 'exp', ARGV[5], 'used', '0')
redis.call('EXPIRE', key, ARGV[6])
return 1
