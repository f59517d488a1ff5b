-- Appends one activity of one user. Every key it touches is declared by the
-- caller and lives in the user's slot (hash tag `{<user>}`), so the step is
-- atomic on one Redis Cluster shard, and a slot being migrated refuses the
-- whole call (TRYAGAIN / ASK) instead of running half of it.
--
-- The id comes from the caller, who took it from the global counter
-- (alloc.lua) before the call. Two nodes may take ids 10 and 11 for one
-- user and run 11 first: the check sees that the user already holds an id
-- at or above 10 and answers 'stale', and the caller takes a new id. So a
-- user's ids only grow, in the order of the PUBLISHes, on every node.
--
-- The endpoints that want the activity are read by the caller beforehand
-- (their delivery keys must be declared); the check answers 'again' if the
-- user's active endpoints changed since.
--
-- k: acts, acts_type, hist, an, whactive, dseq, act, then per delivery
--    (in a.hooks order) dl, dlw, dlp, starting at index `from`
-- A call sent twice (a cluster client resends a command whose answer it
-- did not get) finds its activity stored under its own id: `act:<seq>` is
-- new to each call, so it exists only if this very call ran. The scripts
-- answer 'done' with what was stored instead of appending again.
--
-- a: seq, kind, tail (activity JSON after its id value), history (stream
--    length), ts (RFC 3339), created (µs), origin (node id), hour, metrics,
--    nmetrics, channel (the user's shard channel), publish (SPUBLISH or
--    PUBLISH), wh_channel, hooks = {webhook, delivery id, ...}

-- nil if the append may go ahead, else 'stale' (and the user's highest id)
-- or 'again'.
local function append_check(k, a)
  local top = redis.call('ZREVRANGE', k[1], 0, 0, 'WITHSCORES')
  if top[2] and tonumber(top[2]) >= tonumber(a.seq) then
    return 'stale', top[2]
  end
  local wanted = {}
  local nwanted = 0
  local hooks = redis.call('HGETALL', k[5])
  for i = 1, #hooks, 2 do
    local events = hooks[i + 1]
    if events == '' or string.find(',' .. events .. ',', ',' .. a.kind .. ',', 1, true) then
      wanted[hooks[i]] = true
      nwanted = nwanted + 1
    end
  end
  local given = 0
  for i = 1, #a.hooks, 2 do
    if not wanted[a.hooks[i]] then
      return 'again'
    end
    given = given + 1
  end
  if given ~= nwanted then
    return 'again'
  end
  return nil
end

-- Stores, indexes, counts, publishes and enqueues. Returns the JSON and a
-- flat list {delivery, webhook, ...}.
local function append_write(k, from, a)
  local seq = a.seq
  local id = string.format('%019d', tonumber(seq))
  local json = '{"id":"' .. id .. a.tail
  redis.call('SET', k[7], json)
  redis.call('ZADD', k[1], seq, seq)
  redis.call('ZADD', k[2], seq, seq)
  redis.call('XADD', k[3], 'MAXLEN', a.history, '0-' .. seq, 'a', json)
  local frame = '{"type":"event","id":"' .. id .. '","event":"' .. a.kind .. '","data":' .. json .. '}'
  redis.call(a.publish, a.channel, 'e|' .. seq .. '|' .. a.kind .. '|' .. frame)
  -- Analytics: one counter string per user and UTC hour ('c0,c1,...'), in
  -- hashes of 512 hours each so a year's summary reads ~18 hashes.
  if a.metrics ~= '' then
    local counts = {}
    for i = 1, tonumber(a.nmetrics) do
      counts[i] = 0
    end
    local current = redis.call('HGET', k[4], a.hour)
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
    redis.call('HSET', k[4], a.hour, table.concat(counts, ','))
  end
  local deliveries = {}
  if #a.hooks > 0 then
    local body = '{"type":"' .. a.kind .. '","timestamp":"' .. a.ts .. '","data":' .. json .. '}'
    local j = from
    for i = 1, #a.hooks, 2 do
      local webhook, did = a.hooks[i], a.hooks[i + 1]
      local dseq = redis.call('INCR', k[6])
      redis.call('HSET', k[j], 'webhook', webhook, 'user', a.user, 'type', a.kind,
        'payload', body, 'status', 'pending', 'attempts', 0, 'retry_base', 0,
        'next', a.created, 'created', a.created, 'updated', a.created, 'seq', dseq)
      redis.call('ZADD', k[j + 1], dseq, did)
      redis.call('ZADD', k[j + 2], dseq, did)
      redis.call('PUBLISH', a.wh_channel, webhook .. '|' .. a.user .. '|' .. a.origin)
      table.insert(deliveries, did)
      table.insert(deliveries, webhook)
      j = j + 3
    end
  end
  return json, deliveries
end

-- `n` names of `list` starting at `at`, as a table of their own.
local function slice(list, at, n)
  local out = {}
  for i = at, at + n - 1 do
    table.insert(out, list[i])
  end
  return out
end

-- On one server or under Sentinel no slot rule applies, and a call takes
-- its id and finds the user's endpoints itself, in the same step (one round
-- trip instead of two). `k` is the caller's own copy of its keys, to which
-- the activity's key and the deliveries' keys are added (from `from`); `i`:
-- p (the prefix), b (the user's key base `p{user}:`), dbase (the random part
-- of the delivery ids), floor (the highest id the calling node has seen).
local function inline_prepare(k, from, a, i)
  local counter = i.p .. '{ids}:seq'
  local seq = redis.call('INCR', counter)
  local floor = tonumber(i.floor) or 0
  if seq <= floor then
    seq = floor + 1
    redis.call('SET', counter, seq)
  end
  redis.call('HSET', i.p .. '{ids}:aown:' .. math.floor(seq / 1024), seq, a.user)
  a.seq = seq
  k[7] = i.b .. 'act:' .. seq
  a.hooks = {}
  local hooks = redis.call('HGETALL', k[5])
  local j, n = from, 0
  for h = 1, #hooks, 2 do
    local webhook, events = hooks[h], hooks[h + 1]
    if events == '' or string.find(',' .. events .. ',', ',' .. a.kind .. ',', 1, true) then
      n = n + 1
      local did = 'msg_' .. string.format('%016x', tonumber(a.created)) .. i.dbase .. string.format('%02x', n)
      table.insert(a.hooks, webhook)
      table.insert(a.hooks, did)
      k[j] = i.b .. 'dl:' .. did
      k[j + 1] = i.b .. 'dlw:' .. webhook
      k[j + 2] = i.b .. 'dlp:' .. webhook
      j = j + 3
    end
  end
end

-- The ARGV pairs {webhook, delivery id, ...} starting at `at`, `n` of them.
local function hooks_from(argv, at, n)
  local hooks = {}
  for i = at, at + 2 * n - 1 do
    table.insert(hooks, argv[i])
  end
  return hooks
end
