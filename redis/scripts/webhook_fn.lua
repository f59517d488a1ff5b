-- Shared by the webhook scripts. A webhook is the hash `p wh:{id}` with the
-- fields id, user, url, events (JSON array), events_csv, description, status,
-- reason, created, updated, last_at, last_code, fails, version, secret, prev,
-- prev_exp. Active endpoints are also indexed: `p whactive:{user}` (id →
-- events_csv, read by the append function) and `p whall` (every active id).

-- Brings the active indexes in line with the hash.
local function index_webhook(p, id)
  local w = redis.call('HMGET', p .. 'wh:' .. id, 'user', 'status', 'events_csv')
  if not w[1] then
    return
  end
  if w[2] == 'active' then
    redis.call('HSET', p .. 'whactive:' .. w[1], id, w[3] or '')
    redis.call('SADD', p .. 'whall', id)
  else
    redis.call('HDEL', p .. 'whactive:' .. w[1], id)
    redis.call('SREM', p .. 'whall', id)
  end
end

-- True if the webhook exists and belongs to `owner` ('' = anyone).
local function owned(p, id, owner)
  local user = redis.call('HGET', p .. 'wh:' .. id, 'user')
  return user ~= false and (owner == '' or user == owner)
end

-- What an attempt changes on its endpoint: last outcome, failure count
-- ('' leaves it), and disabling with a reason ('' for none).
local function endpoint_after(p, id, last_at, last_code, fails, reason)
  local key = p .. 'wh:' .. id
  if redis.call('EXISTS', key) == 0 then
    return
  end
  redis.call('HSET', key, 'last_at', last_at, 'last_code', last_code)
  if fails ~= '' then
    redis.call('HSET', key, 'fails', fails)
  end
  if reason ~= '' and redis.call('HGET', key, 'status') == 'active' then
    redis.call('HSET', key, 'status', 'disabled', 'reason', reason, 'updated', last_at)
    redis.call('HINCRBY', key, 'version', 1)
    index_webhook(p, id)
  end
end
