-- Appends one activity atomically: assigns the next global sequence number
-- (so a user's ids only grow), stores the JSON, indexes it, adds it to the
-- user's resume stream (trimmed to the history size) and publishes the event
-- frame on the user's channel. Because scripts run one at a time, the order of
-- PUBLISH is the order of ids: every node sees a user's events in id order.
--
-- p: key prefix; user; kind; tail: the activity JSON after its id value;
-- history: stream length. Returns the sequence number and the JSON.
local function append_activity(p, user, kind, tail, history)
  local seq = redis.call('INCR', p .. 'seq')
  local id = string.format('%019d', seq)
  local json = '{"id":"' .. id .. tail
  redis.call('SET', p .. 'act:' .. seq, json)
  redis.call('ZADD', p .. 'acts:' .. user, seq, seq)
  redis.call('ZADD', p .. 'acts:' .. user .. ':' .. kind, seq, seq)
  redis.call('XADD', p .. 'hist:' .. user, 'MAXLEN', history, '0-' .. seq, 'a', json)
  local frame = '{"type":"event","id":"' .. id .. '","event":"' .. kind .. '","data":' .. json .. '}'
  redis.call('PUBLISH', p .. 'ch:user:' .. user, 'e|' .. seq .. '|' .. kind .. '|' .. frame)
  return seq, json
end
