"""Lua scripts of the Redis dedup index (workers.backends.redis.state.RedisDedupIndex).

Each runs alone on the server, which is what makes canonical choice atomic across workers.
"""

from __future__ import annotations

from workers.backends.redis.dedup_codec import BAND_BUCKET_HEX

# Syndicated copies appear within hours to days of the original; reprints after a month are
# rare and cheap to index twice. 30 days keeps the LSH index to a month of news per worker fleet.
DEDUP_TTL_SECONDS = 30 * 24 * 3600

# Band entries are written in the current period and read in the current and previous one, so
# an entry is found for 30 to 60 days (two periods keep a lookup at 2 x 64 HGETs).
BAND_PERIOD_SECONDS = DEDUP_TTL_SECONDS
BAND_PERIODS = 2

# Shared Lua helpers. A band token (redis_dedup_codec.band_token) is the bucket in hex then the
# field in raw bytes: the band lives in hash <prefix>:dedup:b:<period>:<bucket> under that field,
# whose value is its canonical ids, each packed as one length byte and the id (a 16-hex-digit id
# as its 8 bytes, length byte 128 + 8). Fingerprints are packed "canonical\0body_hash\0...".
_BAND_LUA = """
local function band_slot(prefix, period, token)
  return prefix .. ':dedup:b:' .. period .. ':' .. string.sub(token, 1, BUCKET_HEX), string.sub(token, BUCKET_HEX + 1)
end
local function pack_id(id)
  if #id == 16 and not string.find(id, '[^0-9a-f]') then
    return string.char(136) .. string.gsub(id, '%x%x', function(h) return string.char(tonumber(h, 16)) end)
  end
  if #id > 127 then error('article id too long for the band index: ' .. id) end
  return string.char(#id) .. id
end
local function packed_ids(value)
  local out, i = {}, 1
  while i <= #value do
    local n = string.byte(value, i) % 128
    out[#out + 1] = string.sub(value, i, i + n)
    i = i + 1 + n
  end
  return out
end
local function unpack_id(packed)
  local body = string.sub(packed, 2)
  if string.byte(packed, 1) < 128 then return body end
  return (string.gsub(body, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
local function fp_canonical(raw)
  return string.match(raw, '^([^%z]*)')
end
local function fp_body_hash(raw)
  return string.match(raw, '^[^%z]*%z([^%z]*)')
end
local function band_members(prefix, now, periods, tokens)
  local packed_set, found = {}, {}
  for period = now - periods + 1, now do
    for _, token in ipairs(tokens) do
      local key, field = band_slot(prefix, period, token)
      local value = redis.call('HGET', key, field)
      if value then for _, packed in ipairs(packed_ids(value)) do packed_set[packed] = true end end
    end
  end
  for packed in pairs(packed_set) do found[unpack_id(packed)] = true end  -- a match sits in many bands: unpack it once
  return found
end
local function band_add(prefix, now, periods, tokens, id, period_seconds)
  local packed = pack_id(id)
  -- a period's buckets are read until `periods` periods after its start: they expire right then
  local expires = (now + periods) * period_seconds
  for _, token in ipairs(tokens) do
    local key, field = band_slot(prefix, now, token)
    if redis.call('HSETNX', key, field, packed) == 0 then  -- a band value another canonical has too
      local value = redis.call('HGET', key, field)
      local present = false
      for _, other in ipairs(packed_ids(value)) do if other == packed then present = true end end
      if not present then redis.call('HSET', key, field, value .. packed) end
    end
    redis.call('EXPIREAT', key, expires)
  end
end
local function band_remove(prefix, now, periods, tokens, id)
  local packed = pack_id(id)
  for period = now - periods + 1, now do
    for _, token in ipairs(tokens) do
      local key, field = band_slot(prefix, period, token)
      local value = redis.call('HGET', key, field)
      if value then
        local rest = {}
        for _, other in ipairs(packed_ids(value)) do if other ~= packed then rest[#rest + 1] = other end end
        if #rest == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, table.concat(rest)) end
      end
    end
  end
end
""".replace("BUCKET_HEX", str(BAND_BUCKET_HEX))

# KEYS[1] = hash key, KEYS[2] = fingerprint key, KEYS[3] = the canonical's group key,
# KEYS[4] = the canonical's fingerprint key.
# ARGV[1] = canonical id, ARGV[2] = packed fingerprint, ARGV[3] = TTL seconds, ARGV[4] = article id,
# ARGV[5] = "1" to re-check the bands, ARGV[6] = prefix, ARGV[7] = current period,
# ARGV[8] = number of bands (only a canonical has any), ARGV[9 .. 8+n] = bands, then the candidate
# ids the caller already verified. Runs alone on the server, so it is atomic across workers:
# - a canonical first re-reads its bands: a near copy registered since the caller looked is
#   returned as {'candidates', ids...} and nothing is written (the caller verifies, then retries);
# - a copy is refused with {'moved', id} when its canonical was re-pointed meanwhile;
# - the first body registered under a hash wins ({'winner', id}); only the winner's fingerprint
#   is stored, so a racing duplicate leaves no trace.
CLAIM_SCRIPT = (
    _BAND_LUA
    + """
local id, canon, ttl, prefix, now = ARGV[4], ARGV[1], ARGV[3], ARGV[6], tonumber(ARGV[7])
local nb = tonumber(ARGV[8])
local bands = {}
for i = 9, 8 + nb do bands[#bands + 1] = ARGV[i] end
if id ~= canon then
  local raw = redis.call('GET', KEYS[4])
  if raw then
    local current = fp_canonical(raw)
    if current ~= canon then return {'moved', current} end
  end
elseif ARGV[5] == '1' and nb > 0 then
  local seen = {}
  for i = 9 + nb, #ARGV do seen[ARGV[i]] = true end
  local fresh = {'candidates'}
  for member in pairs(band_members(prefix, now, PERIODS, bands)) do
    if member ~= id and not seen[member] then table.insert(fresh, member) end
  end
  if #fresh > 1 then return fresh end
end
local winner = redis.call('GET', KEYS[1])
if winner and redis.call('EXISTS', prefix .. ':dedup:f:' .. winner) == 0 then
  winner = nil  -- its owner's fingerprint expired: the body is free again (else no one could take it)
end
if not winner then
  winner = canon
  redis.call('SET', KEYS[1], winner, 'EX', ttl)
else
  redis.call('EXPIRE', KEYS[1], ttl)
end
if winner == canon then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
  if id ~= canon then
    redis.call('SADD', KEYS[3], id)
    redis.call('EXPIRE', KEYS[3], ttl)
  end
  band_add(prefix, now, PERIODS, bands, id, PERIOD_SECONDS)
end
return {'winner', winner}
"""
)

# ARGV[1] = prefix, ARGV[2] = current period, ARGV[3..] = bands: the canonical ids in those bands.
CANDIDATES_SCRIPT = (
    _BAND_LUA
    + """
local bands = {}
for i = 3, #ARGV do bands[#bands + 1] = ARGV[i] end
local out = {}
for member in pairs(band_members(ARGV[1], tonumber(ARGV[2]), PERIODS, bands)) do out[#out + 1] = member end
return out
"""
)

# Re-point a group to a new canonical (a wire original, or an earlier report, arrived late).
# KEYS[1] = old canonical's fingerprint, KEYS[2] = new fingerprint, KEYS[3] = old group,
# KEYS[4] = new group, KEYS[5] = new body hash.
# ARGV[1] = new id, ARGV[2] = new packed fingerprint, ARGV[3] = TTL, ARGV[4] = old id,
# ARGV[5] = key prefix, ARGV[6] = current period, ARGV[7] = number of new bands, then the new
# bands, then the old canonical's bands.
# Refuses with {'moved', id} when the old canonical is no longer one (another worker re-pointed
# it first, or this very call already ran: idempotent), {'gone'} when its fingerprint expired.
REPOINT_SCRIPT = (
    _BAND_LUA
    + """
local new, ttl, old, prefix, now, nb = ARGV[1], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local raw = redis.call('GET', KEYS[1])
if not raw then return {'gone'} end
local current = fp_canonical(raw)
if current ~= old then return {'moved', current} end
local members = redis.call('SMEMBERS', KEYS[3])
table.insert(members, old)
for _, member in ipairs(members) do
  if member ~= new then
    local key = prefix .. ':dedup:f:' .. member
    local data = redis.call('GET', key)
    if data then
      redis.call('SET', key, new .. string.sub(data, #fp_canonical(data) + 1), 'EX', ttl)
      local hash_key = prefix .. ':dedup:hash:' .. fp_body_hash(data)
      if redis.call('GET', hash_key) == old then redis.call('SET', hash_key, new, 'EX', ttl) end
    end
    redis.call('SADD', KEYS[4], member)
  end
end
redis.call('EXPIRE', KEYS[4], ttl)
redis.call('DEL', KEYS[3])
local new_bands, old_bands = {}, {}
for i = 8, 7 + nb do new_bands[#new_bands + 1] = ARGV[i] end
for i = 8 + nb, #ARGV do old_bands[#old_bands + 1] = ARGV[i] end
band_remove(prefix, now, PERIODS, old_bands, old)
redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
redis.call('SET', KEYS[5], new, 'EX', ttl)
band_add(prefix, now, PERIODS, new_bands, new, PERIOD_SECONDS)
return {'ok'}
"""
)
CLAIM_SCRIPT, CANDIDATES_SCRIPT, REPOINT_SCRIPT = (
    script.replace("PERIODS", str(BAND_PERIODS)).replace("PERIOD_SECONDS", str(BAND_PERIOD_SECONDS))
    for script in (CLAIM_SCRIPT, CANDIDATES_SCRIPT, REPOINT_SCRIPT)
)

# Stories sharing terms, counted on the server. KEYS: the term sorted sets (story id scored by its
# time); ARGV[1], ARGV[2] = the window's bounds (scores, "+inf" allowed), ARGV[3] = how many of the
# terms a story must share. Returns id, time, id, time, ... of those stories, in no order. Reading
# the sets into Python instead cost 46 ms a lookup once common terms ("indonesia", "jakarta") had
# thousands of stories in the window (10,000 stories, 10,000 rows read); counted here, 13 ms
# (ops/benchmark_stories.py).
STORIES_SHARING_SCRIPT = """
local probes, need, total = tonumber(ARGV[4]), tonumber(ARGV[3]), tonumber(ARGV[5])
local counts, times = {}, {}
for i = 1, probes do
  local reply = redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[1], ARGV[2], 'WITHSCORES')
  for j = 1, #reply, 2 do
    local id = reply[j]
    local n = counts[id]
    if n then counts[id] = n + 1 else counts[id] = 1; times[id] = reply[j + 1] end
  end
end
local out = {}
for id, n in pairs(counts) do
  if n >= need then
    -- the other keys: one membership test each (a story has one time in all its postings)
    for k = probes + 1, #KEYS do
      if n >= total then break end
      if redis.call('ZSCORE', KEYS[k], id) then n = n + 1 end
    end
    if n >= total then out[#out + 1] = id; out[#out + 1] = times[id] end
  end
end
return out
"""
