import Redis

/// Lua scripts: each multi-key state change of a job is one atomic script, never two round trips.
enum Scripts {
    /// Redis server time in milliseconds, so every due time uses one clock whatever the client's.
    private static let now = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

    /// KEYS: stream, delayed, unique. ARGV: envelope, delay ms (<=0 = now), unique ttl ms (0 = none), job id.
    static let enqueue = RedisScript(now + """
    if ARGV[3] ~= '0' then
      if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[3]) then
        return {0, redis.call('GET', KEYS[3])}
      end
    end
    local delay = tonumber(ARGV[2])
    if delay > 0 then
      redis.call('ZADD', KEYS[2], now + delay, ARGV[1])
    else
      redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
    end
    return {1, ARGV[4]}
    """)

    /// KEYS: delayed, stream. ARGV: max. Moves due jobs into the stream; returns how many.
    static let promote = RedisScript(now + """
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
    for _, job in ipairs(due) do
      redis.call('XADD', KEYS[2], '*', 'job', job)
      redis.call('ZREM', KEYS[1], job)
    end
    return #due
    """)

    /// KEYS: stream, delayed, stats. ARGV: entry id, group, next envelope, delay ms, counter.
    /// Acknowledges a delivery and schedules its next run (retry or lock deferral).
    static let reschedule = RedisScript(now + """
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
    redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
    return 1
    """)

    /// KEYS: stream, dead, stats. ARGV: entry id, group, message, reason, kind, job id, seller, attempt, cap.
    /// Acknowledges a delivery and moves it to the capped dead-letter stream; returns its length.
    static let deadLetter = RedisScript(now + """
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[9], '*', 'kind', ARGV[5], 'job_id', ARGV[6], 'seller', ARGV[7],
      'reason', ARGV[4], 'failed_at', tostring(now), 'attempt', ARGV[8], 'message', ARGV[3])
    redis.call('HINCRBY', KEYS[3], 'failed', 1)
    return redis.call('XLEN', KEYS[2])
    """)

    /// KEYS: stream. ARGV: entry id, group, message. Puts an unfinished job back at once (shutdown).
    static let requeue = RedisScript("""
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    redis.call('XADD', KEYS[1], '*', 'job', ARGV[3])
    return 1
    """)

    /// KEYS: lock. ARGV: token, ttl ms. Returns -1 when held by token now, else the holder's remaining ms.
    static let lock = RedisScript("""
    if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return -1
    end
    return redis.call('PTTL', KEYS[1])
    """)

    /// KEYS: lock. ARGV: token, ttl ms. Extends a lock only for its holder.
    static let renewLock = RedisScript("""
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return 0
    """)

    /// KEYS: lock, waiting list, waiting set, stream prefix. ARGV: token, seller.
    /// Releases a lock only for its holder and hands the seller's next waiting job to its stream at once.
    static let unlock = RedisScript("""
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    redis.call('DEL', KEYS[1])
    local entry = redis.call('LPOP', KEYS[2])
    if entry then
      local sep = string.find(entry, '|', 1, true)
      redis.call('XADD', KEYS[4] .. string.sub(entry, 1, sep - 1), '*', 'job', string.sub(entry, sep + 1))
    end
    if redis.call('LLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
    return 1
    """)

    /// KEYS: stream, lock, waiting list, waiting set, stats. ARGV: entry id, group, kind, envelope, seller.
    /// Parks a job whose seller is busy until the lock holder releases it (no polling);
    /// if the lock was released meanwhile, puts the job straight back into its stream.
    static let park = RedisScript("""
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    redis.call('HINCRBY', KEYS[5], 'deferred', 1)
    if redis.call('EXISTS', KEYS[2]) == 0 then
      redis.call('XADD', KEYS[1], '*', 'job', ARGV[4])
      return 0
    end
    redis.call('RPUSH', KEYS[3], ARGV[3] .. '|' .. ARGV[4])
    redis.call('SADD', KEYS[4], ARGV[5])
    return 1
    """)

    /// KEYS: waiting set, key tag prefix. ARGV: max sellers.
    /// Safety net for parked jobs whose lock holder died (its lock expired without a release):
    /// moves the next waiting job of each unlocked seller back to its stream.
    static let unpark = RedisScript("""
    local moved = 0
    local sellers = redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[1]))
    for _, seller in ipairs(sellers) do
      local list = KEYS[2] .. 'waiting:' .. seller
      if redis.call('EXISTS', KEYS[2] .. 'lock:' .. seller) == 0 then
        local entry = redis.call('LPOP', list)
        if entry then
          local sep = string.find(entry, '|', 1, true)
          redis.call('XADD', KEYS[2] .. 'stream:' .. string.sub(entry, 1, sep - 1), '*', 'job', string.sub(entry, sep + 1))
          moved = moved + 1
        end
      end
      if redis.call('LLEN', list) == 0 then redis.call('SREM', KEYS[1], seller) end
    end
    return moved
    """)

    /// KEYS: stream. ARGV: group, consumer, entry ids… Extends leases still owned by consumer.
    static let renewLeases = RedisScript("""
    local renewed = 0
    for i = 3, #ARGV do
      local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
      if #p == 1 then
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
        renewed = renewed + 1
      end
    end
    return renewed
    """)

    /// KEYS: dead, stream. ARGV: dead entry id, message. Moves one dead job back into its stream.
    static let retryDead = RedisScript("""
    if redis.call('XDEL', KEYS[1], ARGV[1]) == 1 then
      redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
      return 1
    end
    return 0
    """)
}
