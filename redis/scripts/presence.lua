-- Presence across the cluster, decided by one node at a time. Chosen by ARGV[1]:
--   due    - node lease_ms now_ms live_cutoff_ms (used by the caller) offline_after_ms
--          → {leader (1|0), online, 'on', user, at, ..., 'off', user, at, ...}
--   commit - node status user ...                        → online
--
-- KEYS (all in the `{cluster}` slot): 1 `presence:leader` (the node
-- deciding, with a TTL), 2 `presence:online` (users announced online),
-- 3 `presence:gone` (announced users not connected anywhere → when that was
-- first seen, ms), then for `due` the `nodeusers:<node>` set of every live
-- node (the users holding a session there), which the caller read from
-- `nodes`; the bridges keep both.
local op, node = ARGV[1], ARGV[3]
local online, gone = KEYS[2], KEYS[3]

if op == 'due' then
  local lease, now = tonumber(ARGV[4]), tonumber(ARGV[5])
  local after = tonumber(ARGV[7])
  local leader = KEYS[1]
  local holder = redis.call('GET', leader)
  if holder and holder ~= node then
    return {0, redis.call('SCARD', online)}
  end
  redis.call('SET', leader, node, 'PX', lease)
  local connected = {}
  for i = 4, #KEYS do
    for _, u in ipairs(redis.call('SMEMBERS', KEYS[i])) do
      connected[u] = true
    end
  end
  local out = {1, redis.call('SCARD', online)}
  for u in pairs(connected) do
    redis.call('HDEL', gone, u)
    if redis.call('SISMEMBER', online, u) == 0 then
      table.insert(out, 'on')
      table.insert(out, u)
      table.insert(out, tostring(now))
    end
  end
  for _, u in ipairs(redis.call('SMEMBERS', online)) do
    if not connected[u] then
      local since = tonumber(redis.call('HGET', gone, u))
      if not since then
        since = now
        redis.call('HSET', gone, u, since)
      end
      if now - since >= after then
        table.insert(out, 'off')
        table.insert(out, u)
        table.insert(out, tostring(since))
      end
    end
  end
  return out
end

if op == 'commit' then
  for i = 4, #ARGV, 2 do
    local status, u = ARGV[i], ARGV[i + 1]
    if status == 'on' then
      redis.call('SADD', online, u)
    else
      redis.call('SREM', online, u)
      redis.call('HDEL', gone, u)
    end
  end
  return redis.call('SCARD', online)
end

return redis.error_reply('unknown presence operation ' .. tostring(op))
