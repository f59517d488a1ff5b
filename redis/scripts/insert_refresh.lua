-- Stores a refresh token with its expiry as one write (one command, so a
-- connection that waits for replicas after each write covers it).
-- KEYS: 1 the token. ARGV: 1 family, 2 user, 3 expiry (µs), 4 TTL (s)
redis.call('HSET', KEYS[1], 'family', ARGV[1], 'user', ARGV[2], 'exp', ARGV[3], 'used', '0')
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
