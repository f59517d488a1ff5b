-- Spends a refresh token and stores its successor, or detects reuse and
-- revokes the whole family.
-- ARGV: 1 prefix, 2 old jti, 3 new jti, 4 user, 5 new expiry (µs), 6 now (µs), 7 TTL (s)
local p = ARGV[1]
local old = redis.call('HMGET', p .. 'rt:' .. ARGV[2], 'family', 'user', 'exp', 'used')
local family = old[1]
if not family then
  return 'invalid'
end
if redis.call('EXISTS', p .. 'rtrev:' .. family) == 1
  or tonumber(old[3]) <= tonumber(ARGV[6]) or old[2] ~= ARGV[4] then
  return 'invalid'
end
if old[4] == '1' then
  redis.call('SET', p .. 'rtrev:' .. family, '1', 'EX', ARGV[7])
  return 'reused'
end
redis.call('HSET', p .. 'rt:' .. ARGV[2], 'used', '1')
redis.call('HSET', p .. 'rt:' .. ARGV[3], 'family', family, 'user', ARGV[4], 'exp', ARGV[5], 'used', '0')
redis.call('EXPIRE', p .. 'rt:' .. ARGV[3], ARGV[7])
return 'rotated'
