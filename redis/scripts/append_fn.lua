-- Appends one activity atomically: assigns the next global sequence number
-- (so a user's ids only grow), stores the JSON, indexes it, adds it to the
-- user's resume stream (trimmed to the history size), publishes the event
-- frame on the user's channel, and stores a pending webhook delivery for every
-- active endpoint of the user that wants this type. Because scripts run one
-- at a time, the order of PUBLISH is the order of ids: every node sees a
-- user's events in id order; and a delivery exists before the append returns.
--
-- a: {p = key prefix, user, kind, tail = activity JSON after its id value,
--     history = stream length, ts = RFC 3339 time, created = µs,
--     dbase = random delivery id suffix, origin = node id,
--     hour = UTC hours since the epoch, metrics = indexes of the analytics
--     metrics it counts for ('' for none, e.g. '2,7'), nmetrics = how many,
--     floor = the highest id the calling node has seen: a Redis that lost
--     its last writes (a failover to a replica that lacked them) must not
--     assign those ids again)
-- Returns the sequence number, the JSON and a flat list {delivery, webhook, ...}.
local function append_activity(a)
  local p, user, kind = a.p, a.user, a.kind
  local seq = redis.call('INCR', p .. 'seq')
  local floor = tonumber(a.floor) or 0
  if seq <= floor then
    seq = floor + 1
    redis.call('SET', p .. 'seq', seq)
  end
  local id = string.format('%019d', seq)
  local json = '{"id":"' .. id .. a.tail
  redis.call('SET', p .. 'act:' .. seq, json)
  redis.call('ZADD', p .. 'acts:' .. user, seq, seq)
  redis.call('ZADD', p .. 'acts:' .. user .. ':' .. kind, seq, seq)
  redis.call('XADD', p .. 'hist:' .. user, 'MAXLEN', a.history, '0-' .. seq, 'a', json)
  local frame = '{"type":"event","id":"' .. id .. '","event":"' .. kind .. '","data":' .. json .. '}'
  redis.call('PUBLISH', p .. 'ch:user:' .. user, 'e|' .. seq .. '|' .. kind .. '|' .. frame)
  -- Analytics: one counter string per user and UTC hour ('c0,c1,...'), in
  -- hashes of 512 hours each so a year's summary reads ~18 hashes.
  if a.metrics ~= '' then
    local key = p .. 'an:' .. user .. ':' .. math.floor(tonumber(a.hour) / 512)
    local counts = {}
    for i = 1, tonumber(a.nmetrics) do
      counts[i] = 0
    end
    local current = redis.call('HGET', key, a.hour)
    if current then
      local i = 1
      for v in string.gmatch(current, '[^,]+') do
        counts[i] = tonumber(v)
        i = i + 1
      end
    end
    for m in string.gmatch(a.metrics, '[^,]+') do
      local i = tonumber(m) + 1
      counts[i] = counts[i] + 1
    end
    redis.call('HSET', key, a.hour, table.concat(counts, ','))
  end
  local deliveries = {}
  local hooks = redis.call('HGETALL', p .. 'whactive:' .. user)
  local body = nil
  for i = 1, #hooks, 2 do
    local webhook, events = hooks[i], hooks[i + 1]
    if events == '' or string.find(',' .. events .. ',', ',' .. kind .. ',', 1, true) then
      body = body or ('{"type":"' .. kind .. '","timestamp":"' .. a.ts .. '","data":' .. json .. '}')
      local dseq = redis.call('INCR', p .. 'dseq')
      -- Sortable by creation (the counter first), unique beyond this Redis
      -- (a random suffix): receivers deduplicate on it.
      local did = 'msg_' .. string.format('%016x', dseq) .. a.dbase
      redis.call('HSET', p .. 'dl:' .. did, 'webhook', webhook, 'user', user, 'type', kind,
        'payload', body, 'status', 'pending', 'attempts', 0, 'retry_base', 0,
        'next', a.created, 'created', a.created, 'updated', a.created, 'seq', dseq)
      redis.call('ZADD', p .. 'dlw:' .. webhook, dseq, did)
      redis.call('ZADD', p .. 'dlp:' .. webhook, dseq, did)
      redis.call('PUBLISH', p .. 'ch:wh', webhook .. '|' .. a.origin)
      table.insert(deliveries, did)
      table.insert(deliveries, webhook)
    end
  end
  return seq, json, deliveries
end
