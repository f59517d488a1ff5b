-- Creates (expected version -1) or updates a task if its stored version is the
-- expected one, publishes its task_update frame, and when given appends the
-- task_completed activity in the same atomic step (in the task owner's slot).
-- KEYS: 1 task, 2 tasks, 3 tseq, then with an activity its 7 keys (acts,
--   acts_type, hist, an, whactive, dseq, act) and 3 per delivery.
-- ARGV: 1 task id, 2 user, 3 expected version, 4 new version, 5 task JSON,
--   6 task_update frame, 7 channel, 8 publish command, 9 activity kind ('' for
--   none), 10 seq, 11 activity JSON tail, 12 history size, 13 RFC 3339 time,
--   14 created (µs), 15 node id, 16 hour, 17 metrics, 18 metric count,
--   19 webhook channel, 20 delivery count, 21.. webhook, delivery id, ...;
--   or, off a cluster, 20 '-1' and 21 prefix, 22 the user's key base,
--   23 delivery id part, 24 highest id seen (the script takes the id and
--   finds the endpoints itself; KEYS 10 unused)
-- Returns {'saved'} | {'saved', json, delivery, webhook, ...} | {'conflict'} |
--   {'stale', highest id} | {'again'} | {'done', json} (ran before)
local key = KEYS[1]
local id, user = ARGV[1], ARGV[2]
local expected = tonumber(ARGV[3])
-- Sent twice (a cluster client resends a command whose answer it did not
-- get): the task already holds exactly this version and JSON.
local now = redis.call('HMGET', key, 'version', 'json')
if now[1] == ARGV[4] and now[2] == ARGV[5] then
  if ARGV[9] ~= '' then
    local json = redis.call('GET', KEYS[10])
    if json then
      return {'done', json}
    end
  else
    return {'saved'}
  end
end
if expected < 0 then
  if redis.call('EXISTS', key) == 1 then
    return {'conflict'}
  end
else
  local version = redis.call('HGET', key, 'version')
  if not version or tonumber(version) ~= expected then
    return {'conflict'}
  end
end
local a, k
if ARGV[9] ~= '' then
  local inline = ARGV[20] == '-1'
  local n = inline and 0 or tonumber(ARGV[20])
  a = {seq = ARGV[10], user = user, kind = ARGV[9], tail = ARGV[11], history = ARGV[12],
    ts = ARGV[13], created = ARGV[14], origin = ARGV[15], hour = ARGV[16], metrics = ARGV[17],
    nmetrics = ARGV[18], channel = ARGV[7], publish = ARGV[8], wh_channel = ARGV[19],
    hooks = hooks_from(ARGV, 21, n)}
  k = slice(KEYS, 4, 7 + 3 * n)
  if not inline then
    local refused, top = append_check(k, a)
    if refused then
      return {refused, top}
    end
  end
end
if expected < 0 then
  local tseq = redis.call('INCR', KEYS[3])
  redis.call('HSET', key, 'json', ARGV[5], 'version', ARGV[4], 'user', user, 'seq', tseq)
  redis.call('ZADD', KEYS[2], tseq, id)
else
  redis.call('HSET', key, 'json', ARGV[5], 'version', ARGV[4])
end
if a and ARGV[20] == '-1' then
  inline_prepare(k, 8, a, {p = ARGV[21], b = ARGV[22], dbase = ARGV[23], floor = ARGV[24]})
end
redis.call(ARGV[8], ARGV[7], 't|' .. ARGV[6])
if a then
  local json, deliveries = append_write(k, 8, a)
  local out = {'saved', json}
  for _, v in ipairs(deliveries) do
    table.insert(out, v)
  end
  return out
end
return {'saved'}
