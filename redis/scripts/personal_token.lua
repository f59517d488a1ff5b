-- Personal access tokens. KEYS: none (one prefix, like every script here).
--   create  p id user hash max created name scopes expires → 1 | 0 (at the limit)
-- `p pat:{id}` hash, `p pat_hash:{sha256}` → id, `p pats:{user}` sorted set
-- of ids by creation time.
local op, p = ARGV[1], ARGV[2]
if op == 'create' then
  local id, user, hash, max = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
  local list = p .. 'pats:' .. user
  if redis.call('ZCARD', list) >= max then
    return 0
  end
  redis.call('HSET', p .. 'pat:' .. id, 'id', id, 'user', user, 'hash', hash,
    'created', ARGV[7], 'name', ARGV[8], 'scopes', ARGV[9], 'expires', ARGV[10], 'last', '')
  redis.call('SET', p .. 'pat_hash:' .. hash, id)
  redis.call('ZADD', list, ARGV[7], id)
  return 1
elseif op == 'revoke' then
  -- revoke p id user → 1 | 0 (no such token of this user)
  local id, user = ARGV[3], ARGV[4]
  local key = p .. 'pat:' .. id
  if redis.call('HGET', key, 'user') ~= user then
    return 0
  end
  redis.call('DEL', p .. 'pat_hash:' .. redis.call('HGET', key, 'hash'))
  redis.call('DEL', key)
  redis.call('ZREM', p .. 'pats:' .. user, id)
  return 1
elseif op == 'touch' then
  -- touch p id at: only a token that still exists
  local key = p .. 'pat:' .. ARGV[3]
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'last', ARGV[4])
  end
  return 1
end
return redis.error_reply('unknown personal_token op ' .. tostring(op))
