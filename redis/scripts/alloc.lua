-- Takes `n` activity ids from the global counter and records their owners.
-- KEYS: 1 the counter, 2.. consecutive owner buckets, starting with bucket
--   ARGV[4], where the caller expects the ids (all in the `{ids}` slot).
-- ARGV: 1 n, 2 the highest id the calling node has seen (a Redis that lost
--   its last writes, after a failover to a replica that lacked them, must
--   not hand those ids out again), 3 ids per bucket, 4 the first declared
--   bucket, 5.. the owner of each id.
-- Returns {last id, 1 if every owner was recorded | 0 if an id fell outside
--   the declared buckets (the caller records those itself)}.
local n, floor, per, b0 = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local last = redis.call('INCRBY', KEYS[1], n)
if last - n < floor then
  last = floor + n
  redis.call('SET', KEYS[1], last)
end
local all = 1
for i = 0, n - 1 do
  local seq = last - n + 1 + i
  local key = KEYS[math.floor(seq / per) - b0 + 2]
  if key and math.floor(seq / per) >= b0 then
    redis.call('HSET', key, seq, ARGV[5 + i])
  else
    all = 0
  end
end
return {last, all}
