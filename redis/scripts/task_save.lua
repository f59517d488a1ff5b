-- Creates (expected version -1) or updates a task if its stored version is the
-- expected one, publishes its task_update frame, and when given appends the
-- task_completed activity in the same atomic step.
-- ARGV: 1 prefix, 2 task id, 3 user, 4 expected version, 5 new version,
--       6 task JSON, 7 task_update frame,
--       8 activity kind ('' for none), 9 activity JSON tail, 10 history size,
--       11 RFC 3339 time, 12 created (µs), 13 delivery id suffix, 14 node id,
--       15 hour, 16 metrics, 17 metric count, 18 highest id seen
-- Returns {'saved'} | {'saved', json, delivery, webhook, ...} | {'conflict'}
local p, id, user = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'task:' .. id
local expected = tonumber(ARGV[4])
if expected < 0 then
  if redis.call('EXISTS', key) == 1 then
    return {'conflict'}
  end
  local tseq = redis.call('INCR', p .. 'tseq')
  redis.call('HSET', key, 'json', ARGV[6], 'version', ARGV[5], 'user', user, 'seq', tseq)
  redis.call('ZADD', p .. 'tasks:' .. user, tseq, id)
else
  local version = redis.call('HGET', key, 'version')
  if not version or tonumber(version) ~= expected then
    return {'conflict'}
  end
  redis.call('HSET', key, 'json', ARGV[6], 'version', ARGV[5])
end
redis.call('PUBLISH', p .. 'ch:user:' .. user, 't|' .. ARGV[7])
if ARGV[8] ~= '' then
  local _, json, deliveries = append_activity({p = p, user = user, kind = ARGV[8], tail = ARGV[9],
    history = ARGV[10], ts = ARGV[11], created = ARGV[12], dbase = ARGV[13], origin = ARGV[14],
    hour = ARGV[15], metrics = ARGV[16], nmetrics = ARGV[17], floor = ARGV[18]})
  local out = {'saved', json}
  for _, v in ipairs(deliveries) do
    table.insert(out, v)
  end
  return out
end
return {'saved'}
