-- One activity. KEYS: 1 acts, 2 acts_type, 3 hist, 4 an, 5 whactive, 6 dseq,
--   7 act, 8 idempotency key (the name of one even without a key), then per
--   delivery dl, dlw, dlp.
-- ARGV: 1 seq, 2 user, 3 kind, 4 json tail, 5 history size, 6 idempotency key
--   given (1 | 0), 7 fingerprint, 8 key TTL (s), 9 RFC 3339 time,
--   10 created (µs), 11 node id, 12 hour, 13 metrics, 14 metric count,
--   15 channel, 16 publish command, 17 webhook channel, 18 delivery count,
--   19.. webhook, delivery id, ...; or, off a cluster, 18 '-1' and 19 prefix,
--   20 the user's key base, 21 delivery id part, 22 highest id seen: the
--   script takes the id and finds the endpoints itself (KEYS 7 unused)
-- Returns {'created', json, delivery, webhook, ...} | {'replayed', json} |
--   {'reused'} | {'stale', highest id} | {'again'} | {'done', json} (ran before)
local stored = redis.call('GET', KEYS[7])
if stored then
  return {'done', stored}
end
local idem = ARGV[6] == '1'
if idem then
  local seen = redis.call('GET', KEYS[8])
  if seen and not string.find(seen, '|', 1, true) then
    return redis.error_reply('idempotency record of an unknown shape')
  end
  if seen then
    local sep = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, sep - 1) ~= ARGV[7] then
      return {'reused'}
    end
    return {'replayed', string.sub(seen, sep + 1)}
  end
end
local inline = ARGV[18] == '-1'
local a = {seq = ARGV[1], user = ARGV[2], kind = ARGV[3], tail = ARGV[4], history = ARGV[5],
  ts = ARGV[9], created = ARGV[10], origin = ARGV[11], hour = ARGV[12], metrics = ARGV[13],
  nmetrics = ARGV[14], channel = ARGV[15], publish = ARGV[16], wh_channel = ARGV[17],
  hooks = inline and {} or hooks_from(ARGV, 19, tonumber(ARGV[18]))}
local k = KEYS
if inline then
  k = slice(KEYS, 1, 8)
  inline_prepare(k, 9, a, {p = ARGV[19], b = ARGV[20], dbase = ARGV[21], floor = ARGV[22]})
else
  local refused, top = append_check(KEYS, a)
  if refused then
    return {refused, top}
  end
end
local json, deliveries = append_write(k, 9, a)
if idem then
  redis.call('SET', KEYS[8], ARGV[7] .. '|' .. json, 'EX', ARGV[8])
end
local out = {'created', json}
for _, v in ipairs(deliveries) do
  table.insert(out, v)
end
return out
