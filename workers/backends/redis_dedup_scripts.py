"""Lua scripts of the Redis dedup index (workers.backends.redis_state.RedisDedupIndex).

Each runs alone on the server, which is what makes canonical choice atomic across workers.
"""

from __future__ import annotations

# Syndicated copies appear within hours to days of the original; reprints after a month are
# rare and cheap to index twice. 30 days keeps the LSH index to a month of news per worker fleet.
DEDUP_TTL_SECONDS = 30 * 24 * 3600

# Band buckets: the current and the previous window-long period are read, so an entry is found
# for 30 to 60 days (two periods keep a lookup at 2 x 64 HGETs); 3 hex digits of the band digest pick one of 4096 hashes per band and period, which keeps
# each hash under Redis's 128-entry listpack limit up to ~500,000 canonicals a period (beyond
# that raise BAND_BUCKET_HEX to 4, or hash-max-listpack-entries).
BAND_PERIOD_SECONDS = DEDUP_TTL_SECONDS
BAND_PERIODS = 2
BAND_BUCKET_HEX = 3

# Shared Lua helpers. A band "i:digest" lives in hash <prefix>:dedup:b:<period>:<i>:<digest[:3]>
# under field digest[3:], whose value is the space-separated canonical ids.
_BAND_LUA = """
local function band_slot(prefix, period, band)
  local colon = string.find(band, ':', 1, true)
  local cut = colon + tonumber(ARGV_BUCKET_HEX)
  return prefix .. ':dedup:b:' .. period .. ':' .. string.sub(band, 1, cut), string.sub(band, cut + 1)
end
local function band_members(prefix, now, periods, bands, found)
  for period = now - periods + 1, now do
    for _, band in ipairs(bands) do
      local key, field = band_slot(prefix, period, band)
      local value = redis.call('HGET', key, field)
      if value then for id in string.gmatch(value, '%S+') do found[id] = true end end
    end
  end
  return found
end
local function band_add(prefix, now, periods, bands, id, ttl)
  for _, band in ipairs(bands) do
    local key, field = band_slot(prefix, now, band)
    local value = redis.call('HGET', key, field)
    if not value then
      redis.call('HSET', key, field, id)
    elseif not string.find(' ' .. value .. ' ', ' ' .. id .. ' ', 1, true) then
      redis.call('HSET', key, field, value .. ' ' .. id)
    end
    redis.call('EXPIRE', key, ttl * periods)
  end
end
local function band_remove(prefix, now, periods, bands, id)
  for period = now - periods + 1, now do
    for _, band in ipairs(bands) do
      local key, field = band_slot(prefix, period, band)
      local value = redis.call('HGET', key, field)
      if value then
        local rest = {}
        for member in string.gmatch(value, '%S+') do if member ~= id then rest[#rest + 1] = member end end
        if #rest == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, table.concat(rest, ' ')) end
      end
    end
  end
end
""".replace("ARGV_BUCKET_HEX", str(BAND_BUCKET_HEX))

# KEYS[1] = hash key, KEYS[2] = fingerprint key, KEYS[3] = the canonical's group key,
# KEYS[4] = the canonical's fingerprint key.
# ARGV[1] = canonical id, ARGV[2] = fingerprint JSON, ARGV[3] = TTL seconds, ARGV[4] = article id,
# ARGV[5] = "1" to re-check the bands, ARGV[6] = prefix, ARGV[7] = current period,
# ARGV[8] = number of bands (only a canonical has any), ARGV[9 .. 8+n] = bands, then the candidate
# ids the caller already verified. Runs alone on the server, so it is atomic across workers:
# - a canonical first re-reads its bands: a near copy registered since the caller looked is
#   returned as {'candidates', ids...} and nothing is written (the caller verifies, then retries);
# - a copy is refused with {'moved', id} when its canonical was re-pointed meanwhile;
# - the first body registered under a hash wins ({'winner', id}); only the winner's fingerprint
#   is stored, so a racing duplicate leaves no trace.
CLAIM_SCRIPT = _BAND_LUA + """
local id, canon, ttl, prefix, now = ARGV[4], ARGV[1], ARGV[3], ARGV[6], tonumber(ARGV[7])
local nb = tonumber(ARGV[8])
local bands = {}
for i = 9, 8 + nb do bands[#bands + 1] = ARGV[i] end
if id ~= canon then
  local raw = redis.call('GET', KEYS[4])
  if raw then
    local current = cjson.decode(raw)['canonical_id']
    if current ~= canon then return {'moved', current} end
  end
elseif ARGV[5] == '1' and nb > 0 then
  local seen = {}
  for i = 9 + nb, #ARGV do seen[ARGV[i]] = true end
  local fresh = {'candidates'}
  for member in pairs(band_members(prefix, now, PERIODS, bands, {})) do
    if member ~= id and not seen[member] then table.insert(fresh, member) end
  end
  if #fresh > 1 then return fresh end
end
local winner = redis.call('GET', KEYS[1])
if winner and redis.call('EXISTS', prefix .. ':dedup:fp:' .. winner) == 0 then
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

# ARGV[1] = prefix, ARGV[2] = current period, ARGV[3..] = bands: the canonical ids in those bands.
CANDIDATES_SCRIPT = _BAND_LUA + """
local bands = {}
for i = 3, #ARGV do bands[#bands + 1] = ARGV[i] end
local out = {}
for member in pairs(band_members(ARGV[1], tonumber(ARGV[2]), PERIODS, bands, {})) do out[#out + 1] = member end
return out
"""

# Re-point a group to a new canonical (a wire original, or an earlier report, arrived late).
# KEYS[1] = old canonical's fingerprint, KEYS[2] = new fingerprint, KEYS[3] = old group,
# KEYS[4] = new group, KEYS[5] = new body hash.
# ARGV[1] = new id, ARGV[2] = new fingerprint JSON, ARGV[3] = TTL, ARGV[4] = old id,
# ARGV[5] = key prefix, ARGV[6] = current period, ARGV[7] = number of new bands, then the new
# bands, then the old canonical's bands.
# Refuses with {'moved', id} when the old canonical is no longer one (another worker re-pointed
# it first, or this very call already ran: idempotent), {'gone'} when its fingerprint expired.
REPOINT_SCRIPT = _BAND_LUA + """
local new, ttl, old, prefix, now, nb = ARGV[1], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local raw = redis.call('GET', KEYS[1])
if not raw then return {'gone'} end
local current = cjson.decode(raw)['canonical_id']
if current ~= old then return {'moved', current} end
local members = redis.call('SMEMBERS', KEYS[3])
table.insert(members, old)
for _, member in ipairs(members) do
  if member ~= new then
    local key = prefix .. ':dedup:fp:' .. member
    local data = redis.call('GET', key)
    if data then
      local fp = cjson.decode(data)
      fp['canonical_id'] = new
      redis.call('SET', key, cjson.encode(fp), 'EX', ttl)
      local hash_key = prefix .. ':dedup:hash:' .. fp['body_hash']
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
CLAIM_SCRIPT, CANDIDATES_SCRIPT, REPOINT_SCRIPT = (
    script.replace("PERIODS", str(BAND_PERIODS)).replace("PERIOD_SECONDS", str(BAND_PERIOD_SECONDS))
    for script in (CLAIM_SCRIPT, CANDIDATES_SCRIPT, REPOINT_SCRIPT)
)
