-- Shared by the webhook scripts. A webhook is the hash `{<user>}:wh:<id>`
-- with the fields id, user, url, events (JSON array), events_csv,
-- description, status, reason, created, updated, last_at, last_code, fails,
-- version, secret, prev, prev_exp. Active endpoints are also indexed in
-- `{<user>}:whactive` (id → events_csv, read before every append). Every
-- key a script touches is declared, all in the owner's slot.

-- Brings the active index (`index`) in line with the hash (`key`).
local function index_webhook(key, index, id)
  local w = redis.call('HMGET', key, 'user', 'status', 'events_csv')
  if not w[1] then
    return
  end
  if w[2] == 'active' then
    redis.call('HSET', index, id, w[3] or '')
  else
    redis.call('HDEL', index, id)
  end
end

-- True if the webhook hash exists and belongs to `owner` ('' = anyone).
local function owned(key, owner)
  local user = redis.call('HGET', key, 'user')
  return user ~= false and (owner == '' or user == owner)
end

-- What an attempt changes on its endpoint: last outcome, failure count
-- ('' leaves it), and disabling with a reason ('' for none).
local function endpoint_after(key, index, id, last_at, last_code, fails, reason)
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
    index_webhook(key, index, id)
  end
end
