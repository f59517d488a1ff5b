-- Spends a refresh token and stores its successor, or detects reuse and
-- revokes the whole family. Both tokens and the family's revocation mark
-- are the user's keys.
-- KEYS: 1 old token, 2 new token, 3 the family's revocation mark.
-- ARGV: 1 family, 2 user, 3 new expiry (µs), 4 now (µs), 5 TTL (s)
local old = redis.call('HMGET', KEYS[1], 'family', 'user', 'exp', 'used')
local family = old[1]
if not family or family ~= ARGV[1] then
  return 'invalid'
end
if redis.call('EXISTS', KEYS[3]) == 1
  or tonumber(old[3]) <= tonumber(ARGV[4]) or old[2] ~= ARGV[2] then
  return 'invalid'
end
if old[4] == '1' then
  -- Sent twice (a cluster client resends a command whose answer it did not
  -- get): the successor this very call names is there already.
  if redis.call('HGET', KEYS[2], 'family') == family then
    return 'rotated'
  end
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[5])
  return 'reused'
end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'family', family, 'user', ARGV[2], 'exp', ARGV[3], 'used', '0')
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 'rotated'
