-- Reserves the e-mail (case-insensitive) and stores the user, or reports it taken.
-- ARGV: 1 prefix, 2 lower-cased e-mail, 3 id, 4 e-mail, 5 full name, 6 hash, 7 created (µs)
local p = ARGV[1]
if redis.call('SET', p .. 'email:' .. ARGV[2], ARGV[3], 'NX') == false then
  return 0
end
redis.call('HSET', p .. 'user:' .. ARGV[3], 'id', ARGV[3], 'email', ARGV[4],
  'full_name', ARGV[5], 'hash', ARGV[6], 'created', ARGV[7])
return 1
