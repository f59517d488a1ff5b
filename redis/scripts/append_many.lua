-- Several activities of one user as one atomic step (a bulk import is
-- split per user; each user's part is one call). KEYS: per activity 7 keys
-- (acts, acts_type, hist, an, whactive, dseq, act) then 3 per delivery (dl,
-- dlw, dlp), in order.
-- ARGV: 1 user, 2 history size, 3 node id, 4 metric count, 5 channel,
--   6 publish command, 7 webhook channel, then per activity: seq, kind, json
--   tail, RFC 3339 time, created (µs), hour, metrics, delivery count, and
--   webhook, delivery id per delivery.
-- Returns {'stale', highest id} | {'again'} | {'done', json, ...} (ran before) |
--   {'created', json, 'delivery,webhook,...', ...}.
local user, history, origin, nmetrics = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local items = {}
local i, key = 8, 1
while i <= #ARGV do
  local n = tonumber(ARGV[i + 7])
  local a = {seq = ARGV[i], user = user, kind = ARGV[i + 1], tail = ARGV[i + 2],
    history = history, ts = ARGV[i + 3], created = ARGV[i + 4], origin = origin,
    hour = ARGV[i + 5], metrics = ARGV[i + 6], nmetrics = nmetrics, channel = ARGV[5],
    publish = ARGV[6], wh_channel = ARGV[7], hooks = hooks_from(ARGV, i + 8, n)}
  table.insert(items, {k = slice(KEYS, key, 7 + 3 * n), a = a})
  i = i + 8 + 2 * n
  key = key + 7 + 3 * n
end
-- Sent twice: the first activity is stored under its own id already.
if items[1] and redis.call('EXISTS', items[1].k[7]) == 1 then
  local out = {'done'}
  for _, item in ipairs(items) do
    table.insert(out, redis.call('GET', item.k[7]))
  end
  return out
end
-- Every check first: either all of them go in or none. The ids ascend, so
-- the later ones pass the order check whenever the first does.
for _, item in ipairs(items) do
  local refused, top = append_check(item.k, item.a)
  if refused then
    return {refused, top}
  end
end
local out = {'created'}
for _, item in ipairs(items) do
  local json, deliveries = append_write(item.k, 8, item.a)
  table.insert(out, json)
  table.insert(out, table.concat(deliveries, ','))
end
return out
