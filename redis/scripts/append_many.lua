-- Appends several activities (of any users) as one atomic step: the bulk
-- import path. ARGV: 1 prefix, 2 history size, 3 node id, 4 metric count,
-- 5 highest id seen, then per activity 8 values: user, kind, json tail, RFC 3339 time,
-- created (µs), delivery id suffix, hour, metrics.
-- Returns {json, 'delivery,webhook,...', json, '', ...}.
local p, history, origin, nmetrics, floor = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local out = {}
local i = 6
while i + 7 <= #ARGV do
  local _, json, deliveries = append_activity({p = p, user = ARGV[i], kind = ARGV[i + 1],
    tail = ARGV[i + 2], history = history, ts = ARGV[i + 3], created = ARGV[i + 4],
    dbase = ARGV[i + 5], origin = origin, hour = ARGV[i + 6], metrics = ARGV[i + 7],
    nmetrics = nmetrics, floor = floor})
  table.insert(out, json)
  table.insert(out, table.concat(deliveries, ','))
  i = i + 8
end
return out
