import Redis

/// The one Lua script that owns a rate-limit bucket: every read-modify-write of it is atomic in Redis.
///
/// Bucket hash fields (times in ms of Redis `TIME`): `tat` (theoretical arrival time: the bucket is full when
/// `now ≥ tat`), `seq` (grants so far), `prev`/`start` (`tat` before the newest grant and that grant's instant,
/// for `complete`), `published` and `burst` (Amazon's defaults as the caller passed them), `rate` (the rate from
/// `x-amzn-RateLimit-Limit`, when Amazon sent one).
///
/// The arrival allowance is capped at a burst-2-or-more bucket's slack, (burst − 1) / rate, as in-process.
///
/// KEYS: bucket. ARGV: mode, time scale, published rate (tokens/s, "" = stored), burst ("" = stored),
/// arrival allowance ms, idle expiry ms, argument (`complete`: grant sequence; `adjust`: new rate).
/// Replies `{1, seq, grantedAtMs}` (granted), `{0, waitMs, "0"}` (wait, nothing changed) or `{2, 0, "0"}`.
enum RateLimitScript {
    enum Mode: String {
        case acquire, complete, adjust, penalize
    }

    static let script = RedisScript("""
    local key = KEYS[1]
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    local mode, scale = ARGV[1], tonumber(ARGV[2])
    local allowance, idle = tonumber(ARGV[5]), tonumber(ARGV[6])
    local f = redis.call('HMGET', key, 'tat', 'seq', 'prev', 'start', 'rate', 'published', 'burst')
    local published = tonumber(ARGV[3]) or tonumber(f[6])
    local burst = tonumber(ARGV[4]) or tonumber(f[7])
    local rate = tonumber(f[5]) or published
    local tat = tonumber(f[1]) or now
    local seq = tonumber(f[2]) or 0
    local prev = tonumber(f[3]) or tat
    local start = tonumber(f[4]) or now
    local done = {2, 0, '0'}
    if mode == 'adjust' then
      local newRate = tonumber(ARGV[7])
      if rate and f[1] then
        -- keep the tokens owed: (tat - now) at the old rate becomes the same number of tokens at the new one
        tat = now + math.max(0, tat - now) * rate / newRate
        prev = math.min(prev, tat)
      end
      rate = newRate
      redis.call('HSET', key, 'rate', ARGV[7])
      if not burst then
        redis.call('PEXPIRE', key, math.ceil(idle))
        return done
      end
    elseif not rate or not burst then
      return done
    end
    local interval = 1000 / (rate * scale)
    if burst >= 2 then allowance = math.min(allowance, (burst - 1) * interval) end
    if mode == 'acquire' then
      local eligible = tat - (burst - 1) * interval
      if now < eligible then
        return {0, math.ceil(eligible - now), '0'}
      end
      prev, start, seq = tat, now, seq + 1
      tat = math.max(now + allowance, tat) + interval
      done = {1, seq, string.format('%.3f', now)}
    elseif mode == 'complete' then
      if tonumber(ARGV[7]) ~= seq then return done end
      local tightened = math.max(math.min(start + allowance, now), prev) + interval
      if tightened >= tat then return done end
      tat = tightened
    elseif mode == 'penalize' then
      tat = math.max(tat, now + burst * interval)
    end
    redis.call('HSET', key, 'tat', string.format('%.3f', tat), 'seq', tostring(seq), 'prev', string.format('%.3f', prev),
      'start', string.format('%.3f', start), 'published', tostring(published), 'burst', tostring(burst))
    redis.call('PEXPIRE', key, math.ceil(math.max(0, tat - now) + idle))
    return done
    """)
}
