-- ARGV: 1 prefix, 2 user, 3 kind, 4 json tail, 5 history size,
--       6 idempotency key ('' for none), 7 fingerprint, 8 key TTL (s)
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
local seq, json = append_activity(p, user, kind, ARGV[4], ARGV[5])
if idem ~= '' then
  redis.call('SET', p .. 'idem:' .. user .. ':' .. idem, ARGV[7] .. '|' .. seq, 'EX', ARGV[8])
end
return {'created', json}
