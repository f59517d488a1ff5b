-- Webhook endpoint leases: `p lease:{id}` holds the owning node's id.
-- ARGV: 1 op (acquire | renew | release), 2 prefix, 3 node, 4 TTL (ms), 5.. ids
-- acquire/release take one id and return 1 | 0; renew returns the ids lost.
local op, p, node, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if op == 'acquire' then
  local key = p .. 'lease:' .. ARGV[5]
  local holder = redis.call('GET', key)
  if holder == false then
    redis.call('SET', key, node, 'PX', ttl)
    return 1
  elseif holder == node then
    redis.call('PEXPIRE', key, ttl)
    return 1
  end
  return 0
end
if op == 'renew' then
  local lost = {}
  for i = 5, #ARGV do
    local key = p .. 'lease:' .. ARGV[i]
    if redis.call('GET', key) == node then
      redis.call('PEXPIRE', key, ttl)
    else
      table.insert(lost, ARGV[i])
    end
  end
  return lost
end
if op == 'release' then
  local key = p .. 'lease:' .. ARGV[5]
  if redis.call('GET', key) == node then
    redis.call('DEL', key)
    return 1
  end
  return 0
end
return redis.error_reply('unknown lease operation')
