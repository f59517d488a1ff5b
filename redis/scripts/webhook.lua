-- Every webhook operation that must be atomic, chosen by ARGV[1]:
--   create  p id user max seqkey field value ...   → 'ok' | 'limit'
--   update  p id owner url events events_csv description updated format → 1 | 0
--   enable  p id owner now                          → 1 | 0
--   rotate  p id owner secret prev_expires now      → 1 | 0
--   delete  p id owner                              → 1 | 0
--   retry   p webhook owner delivery now            → 1 | 0
--   attempt p webhook delivery number attempt_json status next updated
--           last_at last_code fails reason          → 1 | 0
--   test    p webhook delivery seqless fields... | attempt_json last_at last_code fails reason
--   event   p user type payload created dbase origin → {delivery, webhook, ...}
local op, p = ARGV[1], ARGV[2]

if op == 'create' then
  local id, user, max = ARGV[3], ARGV[4], tonumber(ARGV[5])
  if redis.call('ZCARD', p .. 'whs:' .. user) >= max then
    return 'limit'
  end
  local fields = {}
  for i = 6, #ARGV do
    table.insert(fields, ARGV[i])
  end
  redis.call('HSET', p .. 'wh:' .. id, unpack(fields))
  redis.call('ZADD', p .. 'whs:' .. user, redis.call('INCR', p .. 'whseq'), id)
  index_webhook(p, id)
  return 'ok'
end

if op == 'update' then
  local id = ARGV[3]
  if not owned(p, id, ARGV[4]) then
    return 0
  end
  redis.call('HSET', p .. 'wh:' .. id, 'url', ARGV[5], 'events', ARGV[6], 'events_csv', ARGV[7],
    'description', ARGV[8], 'updated', ARGV[9], 'format', ARGV[10])
  redis.call('HINCRBY', p .. 'wh:' .. id, 'version', 1)
  index_webhook(p, id)
  return 1
end

if op == 'enable' then
  local id = ARGV[3]
  if not owned(p, id, ARGV[4]) then
    return 0
  end
  redis.call('HSET', p .. 'wh:' .. id, 'status', 'active', 'reason', '', 'fails', 0, 'updated', ARGV[5])
  redis.call('HINCRBY', p .. 'wh:' .. id, 'version', 1)
  index_webhook(p, id)
  return 1
end

if op == 'rotate' then
  local id = ARGV[3]
  if not owned(p, id, ARGV[4]) then
    return 0
  end
  local key = p .. 'wh:' .. id
  redis.call('HSET', key, 'prev', redis.call('HGET', key, 'secret'), 'prev_exp', ARGV[6],
    'secret', ARGV[5], 'updated', ARGV[7])
  redis.call('HINCRBY', key, 'version', 1)
  return 1
end

if op == 'delete' then
  local id = ARGV[3]
  if not owned(p, id, ARGV[4]) then
    return 0
  end
  local user = redis.call('HGET', p .. 'wh:' .. id, 'user')
  for _, did in ipairs(redis.call('ZRANGE', p .. 'dlw:' .. id, 0, -1)) do
    redis.call('DEL', p .. 'dl:' .. did, p .. 'dla:' .. did)
  end
  redis.call('DEL', p .. 'dlw:' .. id, p .. 'dlp:' .. id, p .. 'wh:' .. id)
  redis.call('ZREM', p .. 'whs:' .. user, id)
  redis.call('HDEL', p .. 'whactive:' .. user, id)
  redis.call('SREM', p .. 'whall', id)
  return 1
end

if op == 'retry' then
  local webhook, did, now = ARGV[3], ARGV[5], ARGV[6]
  if not owned(p, webhook, ARGV[4]) then
    return 0
  end
  local key = p .. 'dl:' .. did
  local d = redis.call('HMGET', key, 'webhook', 'attempts', 'seq')
  if d[1] ~= webhook then
    return 0
  end
  redis.call('HSET', key, 'status', 'pending', 'retry_base', d[2], 'next', now, 'updated', now)
  redis.call('ZADD', p .. 'dlp:' .. webhook, d[3], did)
  return 1
end

if op == 'attempt' then
  local webhook, did, number = ARGV[3], ARGV[4], tonumber(ARGV[5])
  local key = p .. 'dl:' .. did
  local attempts = redis.call('HGET', key, 'attempts')
  -- Deleted with its webhook, or a newer attempt is stored already.
  if not attempts or number <= tonumber(attempts) then
    return 0
  end
  redis.call('RPUSH', p .. 'dla:' .. did, ARGV[6])
  redis.call('HSET', key, 'attempts', number, 'status', ARGV[7], 'next', ARGV[8], 'updated', ARGV[9])
  if ARGV[7] ~= 'pending' then
    redis.call('ZREM', p .. 'dlp:' .. webhook, did)
  end
  endpoint_after(p, webhook, ARGV[10], ARGV[11], ARGV[12], ARGV[13])
  return 1
end

if op == 'test' then
  -- ARGV: 3 webhook, 4 delivery, 5 attempt JSON, 6 last_at, 7 last_code,
  --       8 fails, 9 reason, 10.. delivery field/value pairs
  local webhook, did = ARGV[3], ARGV[4]
  if redis.call('EXISTS', p .. 'wh:' .. webhook) == 0 then
    return 0
  end
  local dseq = redis.call('INCR', p .. 'dseq')
  local fields = {'seq', dseq}
  for i = 10, #ARGV do
    table.insert(fields, ARGV[i])
  end
  redis.call('HSET', p .. 'dl:' .. did, unpack(fields))
  redis.call('ZADD', p .. 'dlw:' .. webhook, dseq, did)
  redis.call('RPUSH', p .. 'dla:' .. did, ARGV[5])
  endpoint_after(p, webhook, ARGV[6], ARGV[7], ARGV[8], ARGV[9])
  return 1
end

if op == 'event' then
  -- A non-activity event (presence): a pending delivery for every active
  -- endpoint of the user that lists the type by name (an empty list means
  -- activities only), announced on the webhook channel like an append's.
  local user, kind, payload, created, dbase, origin = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
  local hooks = redis.call('HGETALL', p .. 'whactive:' .. user)
  local deliveries = {}
  for i = 1, #hooks, 2 do
    local webhook, events = hooks[i], hooks[i + 1]
    if events ~= '' and string.find(',' .. events .. ',', ',' .. kind .. ',', 1, true) then
      local dseq = redis.call('INCR', p .. 'dseq')
      local did = 'msg_' .. string.format('%016x', dseq) .. dbase
      redis.call('HSET', p .. 'dl:' .. did, 'webhook', webhook, 'user', user, 'type', kind,
        'payload', payload, 'status', 'pending', 'attempts', 0, 'retry_base', 0,
        'next', created, 'created', created, 'updated', created, 'seq', dseq)
      redis.call('ZADD', p .. 'dlw:' .. webhook, dseq, did)
      redis.call('ZADD', p .. 'dlp:' .. webhook, dseq, did)
      redis.call('PUBLISH', p .. 'ch:wh', webhook .. '|' .. origin)
      table.insert(deliveries, did)
      table.insert(deliveries, webhook)
    end
  end
  return deliveries
end

return redis.error_reply('unknown webhook operation ' .. tostring(op))
