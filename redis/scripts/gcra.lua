-- GCRA rate limit, cluster-wide: one key per (group, client) holding the
-- theoretical arrival time in microseconds of Redis' own clock, so every
-- node agrees. KEYS: 1 the bucket. ARGV: 1 limit, 2 window (µs).
-- Returns {allowed (0/1), remaining, reset (µs), retry_after (µs)}.
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, math.floor(tat - now), math.floor(allow_at - now)}
end
redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
local used = new_tat - now
-- The epsilon absorbs float error from window / limit.
return {1, math.floor((window - used) / interval + 1e-6), math.floor(used), 0}
