import Redis

/// Lua scripts: each multi-key state change of a job is one atomic script, never two round trips.
enum Scripts {
    /// Redis server time in milliseconds, so every due time uses one clock whatever the client's.
    private static let now = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

    /// KEYS: key tag prefix (`{prefix:shard}:`). ARGV: groups of six per job — kind, envelope,
    /// delay ms (<=0 = now), unique key, unique ttl ms (0 = no unique key), job id.
    /// Enqueues a batch of jobs, each atomically with its unique key; returns 1 (enqueued) or 0 (duplicate) per job.
    static let enqueue = RedisScript(now + """
    local prefix = KEYS[1]
    local out = {}
    for i = 1, #ARGV, 6 do
      if ARGV[i + 4] == '0' or redis.call('SET', prefix .. 'unique:' .. ARGV[i + 3], ARGV[i + 5], 'NX', 'PX', ARGV[i + 4]) then
        local delay = tonumber(ARGV[i + 2])
        if delay > 0 then
          redis.call('ZADD', prefix .. 'delayed:' .. ARGV[i], now + delay, ARGV[i + 1])
        else
          redis.call('XADD', prefix .. 'stream:' .. ARGV[i], '*', 'job', ARGV[i + 1])
        end
        out[#out + 1] = 1
      else
        out[#out + 1] = 0
      end
    end
    return out
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

    /// Lua helpers of the per-kind dead counters (`RedisKeys.deadCounts`): the kind of a dead
    /// entry, and a one-time rebuild from the stream when the counters were never kept (a
    /// dead-letter stream written by an older version). Every script that adds or removes dead
    /// entries runs the rebuild first, so afterwards the counters always match the stream.
    private static let deadHelpers = """
    local function deadKind(fields)
      for j = 1, #fields, 2 do
        if fields[j] == 'kind' then return fields[j + 1] end
      end
      return nil
    end
    local function ensureDeadCounts(dead, counts)
      if redis.call('EXISTS', counts) == 1 or redis.call('XLEN', dead) == 0 then return end
      local start = '-'
      while true do
        local entries = redis.call('XRANGE', dead, start, '+', 'COUNT', 1000)
        for _, e in ipairs(entries) do
          local kind = deadKind(e[2])
          if kind then redis.call('HINCRBY', counts, kind, 1) end
        end
        if #entries < 1000 then return end
        start = '(' .. entries[#entries][1]
      end
    end

    """

    /// KEYS: stream, dead, stats, dead counts. ARGV: entry id, group, message, reason, kind, job id, seller, attempt, cap.
    /// Acknowledges a delivery and moves it to the dead-letter stream, first trimming the oldest
    /// entries (and their kinds' counters) so the stream holds at most `cap`; returns its length.
    static let deadLetter = RedisScript(now + deadHelpers + """
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    ensureDeadCounts(KEYS[2], KEYS[4])
    local cap = tonumber(ARGV[9])
    local excess = redis.call('XLEN', KEYS[2]) - cap + 1
    if excess > 0 then
      for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', excess)) do
        local kind = deadKind(e[2])
        if kind then redis.call('HINCRBY', KEYS[4], kind, -1) end
      end
      redis.call('XTRIM', KEYS[2], 'MAXLEN', cap - 1)
    end
    redis.call('XADD', KEYS[2], 'MAXLEN', cap, '*', 'kind', ARGV[5], 'job_id', ARGV[6], 'seller', ARGV[7],
      'reason', ARGV[4], 'failed_at', tostring(now), 'attempt', ARGV[8], 'message', ARGV[3])
    redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
    redis.call('HINCRBY', KEYS[3], 'failed', 1)
    return redis.call('XLEN', KEYS[2])
    """)

    /// KEYS: dead, dead counts. Dead entries per kind (flat field/value list), rebuilt once if never kept.
    static let deadCounts = RedisScript(deadHelpers + """
    ensureDeadCounts(KEYS[1], KEYS[2])
    return redis.call('HGETALL', KEYS[2])
    """)

    /// KEYS: dead, dead counts. ARGV: dead entry ids. Deletes dead entries; returns how many existed
    /// (an id that is not a valid entry id counts as absent).
    static let dropDead = RedisScript(deadHelpers + """
    ensureDeadCounts(KEYS[1], KEYS[2])
    local dropped = 0
    for _, id in ipairs(ARGV) do
      local entry = redis.pcall('XRANGE', KEYS[1], id, id)
      if entry.err == nil and #entry == 1 then
        redis.call('XDEL', KEYS[1], id)
        local kind = deadKind(entry[1][2])
        if kind then redis.call('HINCRBY', KEYS[2], kind, -1) end
        dropped = dropped + 1
      end
    end
    return dropped
    """)

    /// KEYS: stream. ARGV: entry id, group, message. Puts an unfinished job back at once (shutdown).
    static let requeue = RedisScript("""
    redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    redis.call('XADD', KEYS[1], '*', 'job', ARGV[3])
    return 1
    """)

    /// KEYS: key tag prefix. ARGV: ttl ms, then seller and token of each request.
    /// Takes or extends each seller lock for its token, in order; returns per request -1 when
    /// held by that token now, else the holder's remaining ms.
    static let lock = RedisScript("""
    local out = {}
    for i = 2, #ARGV, 2 do
      local lock = KEYS[1] .. 'lock:' .. ARGV[i]
      if redis.call('SET', lock, ARGV[i + 1], 'NX', 'PX', ARGV[1]) then
        out[#out + 1] = -1
      elseif redis.call('GET', lock) == ARGV[i + 1] then
        redis.call('PEXPIRE', lock, ARGV[1])
        out[#out + 1] = -1
      else
        out[#out + 1] = redis.call('PTTL', lock)
      end
    end
    return out
    """)

    /// KEYS: key tag prefix. ARGV: ttl ms, then seller and token of each lock.
    /// Extends locks only for their holders; returns how many.
    static let renewLock = RedisScript("""
    local renewed = 0
    for i = 2, #ARGV, 2 do
      local lock = KEYS[1] .. 'lock:' .. ARGV[i]
      if redis.call('GET', lock) == ARGV[i + 1] then
        redis.call('PEXPIRE', lock, ARGV[1])
        renewed = renewed + 1
      end
    end
    return renewed
    """)

    /// KEYS: key tag prefix. ARGV: group, number of kinds, then per kind: kind, n, n entry ids of
    /// completed jobs, f, f latency (field, increment) pairs; then the number of locks and a
    /// (seller, token) pair per lock.
    ///
    /// Settles a batch in one call: acknowledges and deletes the completed entries, counts them,
    /// adds the latency histogram, then releases each lock still held by its token (one MGET and
    /// one DEL for all of them) and hands the seller's next parked job (if any) to its stream.
    /// Returns how many locks it released.
    static let settle = RedisScript("""
    local prefix = KEYS[1]
    local i = 3
    for _ = 1, tonumber(ARGV[2]) do
      local kind, n = ARGV[i], tonumber(ARGV[i + 1])
      i = i + 2
      local stream = prefix .. 'stream:' .. kind
      local first = i
      while first < i + n do
        local last = math.min(first + 999, i + n - 1)
        redis.call('XACK', stream, ARGV[1], unpack(ARGV, first, last))
        redis.call('XDEL', stream, unpack(ARGV, first, last))
        first = last + 1
      end
      if n > 0 then redis.call('HINCRBY', prefix .. 'stats:' .. kind, 'processed', n) end
      i = i + n
      local latency = prefix .. 'latency:' .. kind
      local fields = tonumber(ARGV[i])
      i = i + 1
      for _ = 1, fields do
        redis.call('HINCRBY', latency, ARGV[i], ARGV[i + 1])
        i = i + 2
      end
    end
    local locks = tonumber(ARGV[i])
    local released = 0
    if locks > 0 then
      local waiting = prefix .. 'waiting'
      local parked = redis.call('SCARD', waiting) > 0
      local names = {}
      for j = 1, locks do names[j] = prefix .. 'lock:' .. ARGV[i + 2 * j - 1] end
      local mine = {}
      local seen = {}
      for first = 1, locks, 1000 do
        local last = math.min(first + 999, locks)
        local holders = redis.call('MGET', unpack(names, first, last))
        for j = first, last do
          if holders[j - first + 1] == ARGV[i + 2 * j] and not seen[names[j]] then
            seen[names[j]] = true
            mine[#mine + 1] = j
          end
        end
      end
      for first = 1, #mine, 1000 do
        local batch = {}
        for j = first, math.min(first + 999, #mine) do batch[#batch + 1] = names[mine[j]] end
        redis.call('DEL', unpack(batch))
      end
      released = #mine
      if parked then
        for _, j in ipairs(mine) do
          local seller = ARGV[i + 2 * j - 1]
          if redis.call('SISMEMBER', waiting, seller) == 1 then
            local list = prefix .. 'waiting:' .. seller
            local entry = redis.call('LPOP', list)
            if entry then
              local sep = string.find(entry, '|', 1, true)
              redis.call('XADD', prefix .. 'stream:' .. string.sub(entry, 1, sep - 1), '*', 'job', string.sub(entry, sep + 1))
            end
            if redis.call('LLEN', list) == 0 then redis.call('SREM', waiting, seller) end
          end
        end
      end
    end
    return released
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

    /// KEYS: dead, stream, dead counts. ARGV: dead entry id, message. Moves one dead job back into its stream.
    static let retryDead = RedisScript(deadHelpers + """
    ensureDeadCounts(KEYS[1], KEYS[3])
    local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
    if #entry == 0 then return 0 end
    redis.call('XDEL', KEYS[1], ARGV[1])
    local kind = deadKind(entry[1][2])
    if kind then redis.call('HINCRBY', KEYS[3], kind, -1) end
    redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
    return 1
    """)
}
