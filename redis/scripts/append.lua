-- ARGV: 1 prefix, 2 user, 3 kind, 4 json tail, 5 history size,
--       6 idempotency key ('' for none), 7 fingerprint, 8 key TTL (s),
--       9 RFC 3339 time, 10 created (µs), 11 delivery id suffix, 12 node id,
--       13 hour, 14 metrics, 15 metric count, 16 highest id seen
-- Returns {'created', json, delivery, webhook, ...} | {'replayed', json} | {'reused'}
local p, user, kind = ARGV[1], ARGV[2], ARGV[3]
local idem = ARGV[6]
if idem ~= '' then
  local seen = redis.call('GET', p .. 'idem:' .. user .. ':' .. idem)
  if seen then
    local sep = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, sep - 1) ~= ARGV[7] then
      return {'reused'}
    end
    local existing = redis.call('GET', p .. 'act:' .. string.sub(seen, sep + 1))
    if existing then
      return {'replayed', existing}
    end
  end
end
local seq, json, deliveries = append_activity({p = p, user = user, kind = kind, tail = ARGV[4],
  history = ARGV[5], ts = ARGV[9], created = ARGV[10], dbase = ARGV[11], origin = ARGV[12],
  hour = ARGV[13], metrics = ARGV[14], nmetrics = ARGV[15], floor = ARGV[16]})
if idem ~= '' then
  redis.call('SET', p .. 'idem:' .. user .. ':' .. idem, ARGV[7] .. '|' .. seq, 'EX', ARGV[8])
end
local out = {'created', json}
for _, v in ipairs(deliveries) do
  table.insert(out, v)
end
return out
