-- Every webhook operation that must be atomic, chosen by ARGV[1]; each
-- names its KEYS (all in the endpoint owner's slot):
--   create  [wh whs whseq whactive] id user max field value ...  → 'ok' | 'limit'
--   update  [wh whactive] id owner url events events_csv description updated format → 1 | 0
--   enable  [wh whactive] id owner now                           → 1 | 0
--   rotate  [wh] id owner secret prev_expires now                → 1 | 0
--   delete  [wh whs whactive dlw dlp, dl dla per logged delivery] id owner count
--           → 1 | 0 | 'again' (the log changed since the caller read it)
--   retry   [wh dl dlp] webhook owner delivery now                → 1 | 0
--   attempt [dl dla dlp wh whactive] webhook delivery number attempt_json
--           status next updated last_at last_code fails reason    → 1 | 0
--   test    [wh dseq dl dlw dla whactive] webhook delivery attempt_json
--           last_at last_code fails reason field value ...         → 1 | 0
--   event   [whactive dseq, dl dlw dlp per delivery] user type payload
--           created origin wh_channel count webhook delivery ...
--           → {delivery, webhook, ...} | 'again'
local op = ARGV[1]

if op == 'create' then
  local id, user, max = ARGV[2], ARGV[3], tonumber(ARGV[4])
  if redis.call('ZCARD', KEYS[2]) >= max then
    return 'limit'
  end
  local fields = {}
  for i = 5, #ARGV do
    table.insert(fields, ARGV[i])
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), id)
  index_webhook(KEYS[1], KEYS[4], id)
  return 'ok'
end

if op == 'update' then
  if not owned(KEYS[1], ARGV[3]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'url', ARGV[4], 'events', ARGV[5], 'events_csv', ARGV[6],
    'description', ARGV[7], 'updated', ARGV[8], 'format', ARGV[9])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  index_webhook(KEYS[1], KEYS[2], ARGV[2])
  return 1
end

if op == 'enable' then
  if not owned(KEYS[1], ARGV[3]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'status', 'active', 'reason', '', 'fails', 0, 'updated', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  index_webhook(KEYS[1], KEYS[2], ARGV[2])
  return 1
end

if op == 'rotate' then
  if not owned(KEYS[1], ARGV[3]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'prev', redis.call('HGET', KEYS[1], 'secret'), 'prev_exp', ARGV[5],
    'secret', ARGV[4], 'updated', ARGV[6])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  return 1
end

if op == 'delete' then
  local id, n = ARGV[2], tonumber(ARGV[4])
  if not owned(KEYS[1], ARGV[3]) then
    return 0
  end
  if redis.call('ZCARD', KEYS[4]) ~= n then
    return 'again'
  end
  for i = 6, 5 + 2 * n, 2 do
    redis.call('DEL', KEYS[i], KEYS[i + 1])
  end
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[1])
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  return 1
end

if op == 'retry' then
  local webhook, did, now = ARGV[2], ARGV[4], ARGV[5]
  if not owned(KEYS[1], ARGV[3]) then
    return 0
  end
  local d = redis.call('HMGET', KEYS[2], 'webhook', 'attempts', 'seq')
  if d[1] ~= webhook then
    return 0
  end
  redis.call('HSET', KEYS[2], 'status', 'pending', 'retry_base', d[2], 'next', now, 'updated', now)
  redis.call('ZADD', KEYS[3], d[3], did)
  return 1
end

if op == 'attempt' then
  local webhook, did, number = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local attempts = redis.call('HGET', KEYS[1], 'attempts')
  -- Deleted with its webhook, or a newer attempt is stored already.
  if not attempts or number <= tonumber(attempts) then
    return 0
  end
  redis.call('RPUSH', KEYS[2], ARGV[5])
  redis.call('HSET', KEYS[1], 'attempts', number, 'status', ARGV[6], 'next', ARGV[7], 'updated', ARGV[8])
  if ARGV[6] ~= 'pending' then
    redis.call('ZREM', KEYS[3], did)
  end
  endpoint_after(KEYS[4], KEYS[5], webhook, ARGV[9], ARGV[10], ARGV[11], ARGV[12])
  return 1
end

if op == 'test' then
  local webhook, did = ARGV[2], ARGV[3]
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
  end
  -- Sent twice: stored already.
  if redis.call('EXISTS', KEYS[3]) == 1 then
    return 1
  end
  local dseq = redis.call('INCR', KEYS[2])
  local fields = {'seq', dseq}
  for i = 9, #ARGV do
    table.insert(fields, ARGV[i])
  end
  redis.call('HSET', KEYS[3], unpack(fields))
  redis.call('ZADD', KEYS[4], dseq, did)
  redis.call('RPUSH', KEYS[5], ARGV[4])
  endpoint_after(KEYS[1], KEYS[6], webhook, ARGV[5], ARGV[6], ARGV[7], ARGV[8])
  return 1
end

if op == 'event' then
  -- A non-activity event (presence): a pending delivery for every active
  -- endpoint of the user that lists the type by name (an empty list means
  -- activities only), announced on the webhook channel like an append's.
  local user, kind, payload, created, origin, channel = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  local n = tonumber(ARGV[8])
  local wanted, nwanted = {}, 0
  local hooks = redis.call('HGETALL', KEYS[1])
  for i = 1, #hooks, 2 do
    local events = hooks[i + 1]
    if events ~= '' and string.find(',' .. events .. ',', ',' .. kind .. ',', 1, true) then
      wanted[hooks[i]] = true
      nwanted = nwanted + 1
    end
  end
  if nwanted ~= n then
    return 'again'
  end
  for i = 9, 8 + 2 * n, 2 do
    if not wanted[ARGV[i]] then
      return 'again'
    end
  end
  local deliveries = {}
  local j = 3
  for i = 9, 8 + 2 * n, 2 do
    local webhook, did = ARGV[i], ARGV[i + 1]
    local dseq = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[j], 'webhook', webhook, 'user', user, 'type', kind,
      'payload', payload, 'status', 'pending', 'attempts', 0, 'retry_base', 0,
      'next', created, 'created', created, 'updated', created, 'seq', dseq)
    redis.call('ZADD', KEYS[j + 1], dseq, did)
    redis.call('ZADD', KEYS[j + 2], dseq, did)
    redis.call('PUBLISH', channel, webhook .. '|' .. user .. '|' .. origin)
    table.insert(deliveries, did)
    table.insert(deliveries, webhook)
    j = j + 3
  end
  return deliveries
end

return redis.error_reply('unknown webhook operation ' .. tostring(op))
