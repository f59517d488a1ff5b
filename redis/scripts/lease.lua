-- Webhook endpoint leases: `{cluster}:lease:<id>` holds the owning node's id.
-- KEYS: the lease of each id. ARGV: 1 op (acquire | renew | release),
-- 2 node, 3 TTL (ms), 4.. the ids, in KEYS order.
-- acquire/release take one id and return 1 | 0; renew returns the ids lost.
local op, node, ttl = ARGV[1], ARGV[2], ARGV[3]
if op == 'acquire' then
  local holder = redis.call('GET', KEYS[1])
  if holder == false then
    redis.call('SET', KEYS[1], node, 'PX', ttl)
    return 1
  elseif holder == node then
    redis.call('PEXPIRE', KEYS[1], ttl)
    return 1
  end
  return 0
end
if op == 'renew' then
  local lost = {}
  for i = 1, #KEYS do
    if redis.call('GET', KEYS[i]) == node then
      redis.call('PEXPIRE', KEYS[i], ttl)
    else
      table.insert(lost, ARGV[3 + i])
    end
  end
  return lost
end
if op == 'release' then
  if redis.call('GET', KEYS[1]) == node then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
return redis.error_reply('unknown lease operation')
