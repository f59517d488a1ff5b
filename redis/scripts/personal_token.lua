-- Personal access tokens, in their owner's slot. KEYS: 1 the token's hash
-- `{<user>}:pat:<id>`, 2 the user's list `{<user>}:pats` (ids by creation).
-- The pointer from a secret's hash (`pat_hash:<sha256>`) is a key of its own,
-- written by the caller before `create` and removed after `revoke`.
--   create  id user hash max created name scopes expires → 1 | 0 (at the limit)
--   revoke  id user → the secret's hash | '' (no such token of this user)
--   touch   at: only a token that still exists
local op = ARGV[1]
if op == 'create' then
  -- Sent twice: the token is there already.
  if redis.call('HGET', KEYS[1], 'hash') == ARGV[4] then
    return 1
  end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'id', ARGV[2], 'user', ARGV[3], 'hash', ARGV[4],
    'created', ARGV[6], 'name', ARGV[7], 'scopes', ARGV[8], 'expires', ARGV[9], 'last', '')
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[2])
  return 1
elseif op == 'revoke' then
  if redis.call('HGET', KEYS[1], 'user') ~= ARGV[3] then
    return ''
  end
  local hash = redis.call('HGET', KEYS[1], 'hash')
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return hash
elseif op == 'touch' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 'last', ARGV[2])
  end
  return 1
end
return redis.error_reply('unknown personal_token op ' .. tostring(op))
