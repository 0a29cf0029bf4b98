import Domain
import Foundation
import JobQueue
import Logging
import Redis

/// The production ``JobQueue``: Redis Streams with one consumer group per job kind.
///
/// Round trips and script calls are what limit a Redis queue, so reads, acknowledgements, lock
/// requests and releases are batched: a batch of jobs costs three round trips (read, lock, settle)
/// and one script call (settle) whatever its size, plus one lock round trip when a seller is busy.
public struct RedisJobQueue: JobQueue {
    /// Keys of the shard this process consumes; enqueues are routed to each seller's shard.
    public let keys: RedisKeys
    /// Most entries the dead-letter stream keeps (oldest trimmed first, with a warning as it fills).
    public let deadLetterCap: Int
    private let reader: RedisClient
    private let control: RedisClient
    private let logger: Logger

    public init(endpoint: RedisEndpoint, keys: RedisKeys = RedisKeys(), deadLetterCap: Int = 10_000, logger: Logger) {
        self.keys = keys
        self.deadLetterCap = deadLetterCap
        self.reader = RedisClient(endpoint: endpoint, label: "redis-reader")
        self.control = RedisClient(endpoint: endpoint, label: "redis-control")
        self.logger = logger
    }

    /// The connection for short commands, shared with other Redis users of this process (rate limits, leases).
    public var client: RedisClient { control }

    public func enqueue(_ job: JobEnvelope, at: Date?, uniqueKey: String?, uniqueFor: Double) async throws -> EnqueueResult {
        try await enqueue(batch: [EnqueueRequest(job, at: at, uniqueKey: uniqueKey, uniqueFor: uniqueFor)])[0]
    }

    /// Enqueues every request in one round trip, each atomically (uniqueness checked inside the script).
    ///
    /// A job to run now without a unique key is one plain `XADD` (atomic by itself, and cheaper
    /// for Redis than a script); consecutive delayed or unique jobs of a shard go to Redis as one
    /// ``Scripts/enqueue`` call per ``scriptBatch`` jobs. Each shard's jobs keep their order.
    public func enqueue(batch: [EnqueueRequest]) async throws -> [EnqueueResult] {
        var byShard: [Int: [Int]] = [:]
        for (index, request) in batch.enumerated() {
            try request.job.validate()
            byShard[RedisKeys.shard(of: request.job.seller, count: keys.shardCount), default: []].append(index)
        }
        var calls: [RedisCall] = []
        var slots: [[Int]] = []
        for (shard, indices) in byShard.sorted(by: { $0.key < $1.key }) {
            let shardKeys = RedisKeys(prefix: keys.prefix, shard: shard, shardCount: keys.shardCount)
            var streams: [JobKind: String] = [:]
            var run: [Int] = []
            var args: [String] = []
            func flushRun() {
                guard !run.isEmpty else { return }
                calls.append(.script(Scripts.enqueue, keys: [shardKeys.tagPrefix], args: args))
                slots.append(run)
                run = []
                args = []
            }
            for index in indices {
                let request = batch[index]
                let job = request.job
                let delayMs = request.at.map { Int(($0.timeIntervalSinceNow * 1000).rounded(.up)) } ?? 0
                if request.uniqueKey == nil, delayMs <= 0 {
                    flushRun()
                    let stream = streams[job.kind] ?? shardKeys.stream(job.kind)
                    streams[job.kind] = stream
                    calls.append(.command(["XADD", stream, "*", "job", job.encoded()]))
                    slots.append([index])
                    continue
                }
                run.append(index)
                args.append(job.kind.rawValue)
                args.append(job.encoded())
                args.append(String(delayMs))
                args.append(request.uniqueKey ?? "-")
                args.append(String(request.uniqueKey == nil ? 0 : max(1, Int(request.uniqueFor * 1000))))
                args.append(job.id)
                if run.count == Self.scriptBatch { flushRun() }
            }
            flushRun()
        }
        let replies = try await control.pipeline(calls: calls)
        var results = [EnqueueResult](repeating: .enqueued(id: ""), count: batch.count)
        for (reply, part) in zip(replies, slots) {
            switch reply {
            case .bulk where part.count == 1:
                results[part[0]] = .enqueued(id: batch[part[0]].job.id)
            case let .array(flags) where flags.count == part.count:
                for (flag, index) in zip(flags, part) {
                    let request = batch[index]
                    results[index] = flag.int == 1 ? .enqueued(id: request.job.id) : .duplicate(uniqueKey: request.uniqueKey ?? "")
                }
            default:
                let first = batch[part[0]].job
                throw RedisError(.reply, "enqueue of \(part.count) job(s) (first: \(first.kind) for seller \(first.seller)) failed: \(reply.errorMessage ?? "unexpected reply")")
            }
        }
        return results
    }

    /// Most jobs, locks or ids one script call handles, so no single call holds Redis for long.
    static let scriptBatch = 500

    public func prepare(kinds: [JobKind]) async throws {
        let replies = try await control.pipeline(kinds.map { ["XGROUP", "CREATE", keys.stream($0), keys.group, "0", "MKSTREAM"] })
        for (kind, reply) in zip(kinds, replies) {
            if let error = reply.errorMessage, !error.hasPrefix("BUSYGROUP") {
                throw RedisError(.reply, "cannot create consumer group for \(kind): \(error)")
            }
        }
    }

    public func dequeue(kinds: [JobKind], consumer: String, max: Int, wait: Double) async throws -> [Delivery] {
        var command = ["XREADGROUP", "GROUP", keys.group, consumer, "COUNT", String(max)]
        if wait > 0 { command += ["BLOCK", String(Int(wait * 1000))] }
        command.append("STREAMS")
        command += kinds.map { keys.stream($0) }
        command += kinds.map { _ in ">" }
        let reply = wait > 0 ? try await reader.sendBlocking(command, blockSeconds: wait) : try await reader.send(command)
        if let error = reply.errorMessage { throw RedisError(.reply, "read from \(kinds.map(\.rawValue)) failed: \(error)") }
        return parseStreams(reply, kinds: kinds)
    }

    public func ownPending(kinds: [JobKind], consumer: String, max: Int) async throws -> [Delivery] {
        let command = ["XREADGROUP", "GROUP", keys.group, consumer, "COUNT", String(max), "STREAMS"]
            + kinds.map { keys.stream($0) } + kinds.map { _ in "0" }
        let reply = try await reader.send(command)
        if let error = reply.errorMessage { throw RedisError(.reply, "re-reading own pending jobs failed: \(error)") }
        return parseStreams(reply, kinds: kinds)
    }

    public func reclaim(kinds: [JobKind], consumer: String, minIdle: Double, max: Int) async throws -> [Delivery] {
        var out: [Delivery] = []
        for kind in kinds where out.count < max {
            let reply = try await control.send(["XAUTOCLAIM", keys.stream(kind), keys.group, consumer,
                                                String(Int(minIdle * 1000)), "0-0", "COUNT", String(max - out.count)])
            guard let parts = reply.array, parts.count >= 2, let entries = parts[1].array, !entries.isEmpty else { continue }
            var claimed = parseEntries(entries, kind: kind)
            let counts = try await control.pipeline(claimed.map { ["XPENDING", keys.stream(kind), keys.group, "IDLE", "0", $0.receipt, $0.receipt, "1"] })
            for (i, count) in counts.enumerated() {
                if let row = count.array?.first?.array, row.count >= 4, let n = row[3].int { claimed[i].deliveryCount = n }
            }
            out += claimed
        }
        return out
    }

    public func renew(_ deliveries: [Delivery], consumer: String) async throws {
        let byKind = Dictionary(grouping: deliveries, by: \.kind)
        _ = try await control.evalPipeline(byKind.map { kind, items in
            (Scripts.renewLeases, [keys.stream(kind)], [keys.group, consumer] + items.map(\.receipt))
        })
    }

    /// Settles a batch in one round trip: the rare outcomes (retry, deferral, dead letter, requeue)
    /// as one script call each, and everything else — acknowledging completed jobs, counters,
    /// latency histogram, releasing every lock — as a single ``Scripts/settle`` call.
    public func settle(_ outcomes: [Outcome], unlocking locks: [(SellerID, String)]) async throws {
        var calls: [(RedisScript, [String], [String])] = []
        var completed: [JobKind: [String]] = [:]
        var latency: [JobKind: LatencyTally] = [:]
        var deadLetterSlots: [Int] = []
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        func recordLatency(_ d: Delivery) {
            guard let enqueued = d.envelope?.enqueuedAt else { return }
            latency[d.kind, default: LatencyTally()].add(milliseconds: Int(max(0, nowMs - enqueued)))
        }
        for outcome in outcomes {
            let d = outcome.delivery
            switch outcome {
            case .completed:
                recordLatency(d)
                completed[d.kind, default: []].append(d.receipt)
            case let .retry(_, next, at, _):
                calls.append((Scripts.reschedule, [keys.stream(d.kind), keys.delayed(d.kind), keys.stats(d.kind)],
                              [d.receipt, keys.group, next.encoded(), String(delayMs(at)), "retried"]))
            case let .deferred(_, next, _):
                calls.append((Scripts.park, [keys.stream(d.kind), keys.lock(next.seller), keys.waiting(next.seller), keys.waitingSellers, keys.stats(d.kind)],
                              [d.receipt, keys.group, d.kind.rawValue, next.encoded(), next.seller.rawValue]))
            case let .dead(_, reason):
                recordLatency(d)
                deadLetterSlots.append(calls.count)
                calls.append((Scripts.deadLetter, [keys.stream(d.kind), keys.dead, keys.stats(d.kind), keys.deadCounts],
                              [d.receipt, keys.group, d.raw, reason, d.kind.rawValue, d.envelope?.id ?? "",
                               d.envelope?.seller.rawValue ?? "", String(d.envelope?.attempt ?? 0), String(deadLetterCap)]))
            case .requeue:
                calls.append((Scripts.requeue, [keys.stream(d.kind)], [d.receipt, keys.group, d.raw]))
            }
        }
        let kinds = Set(completed.keys).union(latency.keys).sorted()
        if !kinds.isEmpty || !locks.isEmpty {
            var args: [String] = [keys.group, String(kinds.count)]
            args.reserveCapacity(4 + outcomes.count + 2 * locks.count + kinds.count * 24)
            for kind in kinds {
                let ids = completed[kind] ?? []
                args.append(kind.rawValue)
                args.append(String(ids.count))
                args.append(contentsOf: ids)
                (latency[kind] ?? LatencyTally()).appendFields(to: &args)
            }
            args.append(String(locks.count))
            for (seller, token) in locks {
                args.append(seller.rawValue)
                args.append(token)
            }
            calls.append((Scripts.settle, [keys.tagPrefix], args))
        }
        let replies = try await control.evalPipeline(calls)
        if let error = replies.compactMap(\.errorMessage).first {
            throw RedisError(.reply, "settling \(outcomes.count) jobs failed: \(error)")
        }
        if let length = deadLetterSlots.compactMap({ replies[$0].int }).max(), length >= deadLetterCap * 9 / 10 {
            logger.warning("dead-letter stream is nearly full; oldest entries are being trimmed",
                           metadata: ["length": "\(length)", "cap": "\(deadLetterCap)"])
        }
    }

    public func promoteDue(kinds: [JobKind], now: Date) async throws -> Int {
        var calls = kinds.map { (Scripts.promote, [keys.delayed($0), keys.stream($0)], ["500"]) }
        calls.append((Scripts.unpark, [keys.waitingSellers, keys.tagPrefix], ["50"]))
        let replies = try await control.evalPipeline(calls)
        return replies.compactMap(\.int).reduce(0, +)
    }

    public func nextDelayed(kinds: [JobKind]) async throws -> Date? {
        let replies = try await control.pipeline([["TIME"], ["SCARD", keys.waitingSellers]] + kinds.map { ["ZRANGE", keys.delayed($0), "0", "0", "WITHSCORES"] })
        if (replies[1].int ?? 0) > 0 { return Date() }
        guard let time = replies[0].array, time.count == 2, let seconds = time[0].int, let micros = time[1].int else { return nil }
        let serverNow = Double(seconds) + Double(micros) / 1_000_000
        let earliest = replies.dropFirst(2).compactMap { reply -> Double? in
            guard let pair = reply.array, pair.count == 2, let score = pair[1].string.flatMap(Double.init) else { return nil }
            return score / 1000
        }.min()
        return earliest.map { Date().addingTimeInterval($0 - serverNow) }
    }

    /// Takes each lock with a plain `SET NX PX` (pipelined: cheaper for Redis than a script call
    /// per lock); only locks that were already taken — by another job, or by this token after a
    /// lost reply — go through ``Scripts/lock`` in a second round trip, which extends our own and
    /// reports how long a foreign one still holds.
    public func lockSellers(_ requests: [(SellerID, String)], ttl: Double) async throws -> [LockResult] {
        let ttlMs = String(Int(ttl * 1000))
        let replies = try await control.pipeline(requests.map { ["SET", keys.lock($0.0), $0.1, "NX", "PX", ttlMs] })
        var results = [LockResult](repeating: .acquired, count: requests.count)
        var taken: [Int] = []
        for (index, reply) in replies.enumerated() {
            switch reply {
            case .status: continue
            case .null: taken.append(index)
            default: throw RedisError(.reply, "seller lock for \(requests[index].0) failed: \(reply.errorMessage ?? "unexpected reply")")
            }
        }
        guard !taken.isEmpty else { return results }
        var answers: [RedisValue] = []
        for reply in try await control.evalPipeline(lockCalls(Scripts.lock, taken.map { requests[$0] }, ttl: ttl)) {
            guard let values = reply.array else {
                throw RedisError(.reply, "seller lock failed: \(reply.errorMessage ?? "unexpected reply")")
            }
            answers += values
        }
        guard answers.count == taken.count else {
            throw RedisError(.reply, "seller lock failed: \(answers.count) answers for \(taken.count) requests")
        }
        for (index, answer) in zip(taken, answers) {
            guard let ms = answer.int else { throw RedisError(.reply, "seller lock failed: unexpected reply") }
            results[index] = ms < 0 ? .acquired : .busy(retryAfter: Double(ms) / 1000)
        }
        return results
    }

    public func renewSellerLocks(_ locks: [(SellerID, String)], ttl: Double) async throws {
        let replies = try await control.evalPipeline(lockCalls(Scripts.renewLock, locks, ttl: ttl))
        if let error = replies.compactMap(\.errorMessage).first { throw RedisError(.reply, "renewing \(locks.count) seller locks failed: \(error)") }
    }

    /// One call of a lock script per ``scriptBatch`` (seller, token) pairs.
    private func lockCalls(_ script: RedisScript, _ pairs: [(SellerID, String)], ttl: Double) -> [(RedisScript, [String], [String])] {
        let ttlMs = String(Int(ttl * 1000))
        return stride(from: 0, to: pairs.count, by: Self.scriptBatch).map { start in
            var args = [ttlMs]
            args.reserveCapacity(1 + 2 * Self.scriptBatch)
            for (seller, token) in pairs[start..<min(start + Self.scriptBatch, pairs.count)] {
                args.append(seller.rawValue)
                args.append(token)
            }
            return (script, [keys.tagPrefix], args)
        }
    }

    public func heartbeat(_ consumer: ConsumerInfo) async throws {
        let json = String(decoding: try JSONEncoder().encode(consumer), as: UTF8.self)
        _ = try await control.send(["HSET", keys.consumers, consumer.name, json])
    }

    public func unregister(consumer: String, kinds: [JobKind]) async throws {
        var commands: [[String]] = [["HDEL", keys.consumers, consumer]]
        let pending = try await control.pipeline(kinds.map { ["XPENDING", keys.stream($0), keys.group, "-", "+", "1", consumer] })
        for (kind, reply) in zip(kinds, pending) where reply.array?.isEmpty == true {
            commands.append(["XGROUP", "DELCONSUMER", keys.stream(kind), keys.group, consumer])
        }
        _ = try await control.pipeline(commands)
    }

    /// Depths and counters per kind: four commands per kind plus the dead counters, in one round trip.
    public func status(kinds: [JobKind]) async throws -> [KindStatus] {
        var commands: [[String]] = []
        for kind in kinds {
            commands.append(["XLEN", keys.stream(kind)])
            commands.append(["XPENDING", keys.stream(kind), keys.group])
            commands.append(["ZCARD", keys.delayed(kind)])
            commands.append(["HGETALL", keys.stats(kind)])
        }
        let replies = try await control.pipeline(calls: commands.map { .command($0) }
            + [.script(Scripts.deadCounts, keys: [keys.dead, keys.deadCounts], args: [])])
        if let error = replies.last?.errorMessage { throw RedisError(.reply, "reading dead-letter counts failed: \(error)") }
        let deadByKind = pairs(replies.last!)
        return kinds.enumerated().map { index, kind in
            let base = index * 4
            var status = KindStatus(kind: kind.rawValue)
            status.streamLength = replies[base].int ?? 0
            status.pending = replies[base + 1].array?.first?.int ?? 0
            status.delayed = replies[base + 2].int ?? 0
            let counters = pairs(replies[base + 3])
            status.processed = Int(counters["processed"] ?? "") ?? 0
            status.retried = Int(counters["retried"] ?? "") ?? 0
            status.failed = Int(counters["failed"] ?? "") ?? 0
            status.deadLettered = Int(deadByKind[kind.rawValue] ?? "") ?? 0
            return status
        }
    }

    public func consumers() async throws -> [ConsumerInfo] {
        let reply = try await control.send(["HGETALL", keys.consumers])
        return pairs(reply).values.compactMap { try? JSONDecoder().decode(ConsumerInfo.self, from: Data($0.utf8)) }
            .sorted { $0.name < $1.name }
    }

    public func deadJobs(limit: Int) async throws -> [DeadJob] {
        let reply = try await control.send(["XRANGE", keys.dead, "-", "+", "COUNT", String(limit)])
        return parseDead(reply)
    }

    public func retryDead(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let entries = try await control.pipeline(ids.map { ["XRANGE", keys.dead, $0, $0] })
        let calls = entries.compactMap { reply -> (RedisScript, [String], [String])? in
            guard let job = parseDead(reply).first else { return nil }
            var message = job.message
            var seller: SellerID?
            if case var .success(envelope) = JobEnvelope.decode(message) {
                envelope.attempt = 0
                message = envelope.encoded()
                seller = envelope.seller
            }
            let target = seller.map { keys.routed(to: $0) } ?? keys
            return (Scripts.retryDead, [keys.dead, target.stream(JobKind(rawValue: job.kind)), keys.deadCounts], [job.deadID, message])
        }
        let moved = try await control.evalPipeline(calls)
        if let error = moved.compactMap(\.errorMessage).first { throw RedisError(.reply, "retrying dead jobs failed: \(error)") }
        return moved.compactMap(\.int).reduce(0, +)
    }

    public func dropDead(ids: [String]) async throws -> Int {
        let calls = stride(from: 0, to: ids.count, by: Self.scriptBatch).map { start in
            (Scripts.dropDead, [keys.dead, keys.deadCounts], Array(ids[start..<min(start + Self.scriptBatch, ids.count)]))
        }
        let replies = try await control.evalPipeline(calls)
        if let error = replies.compactMap(\.errorMessage).first { throw RedisError(.reply, "dropping dead jobs failed: \(error)") }
        return replies.compactMap(\.int).reduce(0, +)
    }

    public func dropJobs(of seller: SellerID, kinds: [JobKind]) async throws -> Int {
        let routed = keys.routed(to: seller)
        var dropped = 0
        for kind in kinds {
            let entries = try await control.send(["XRANGE", routed.stream(kind), "-", "+"])
            let mine = parseEntries(entries.array ?? [], kind: kind).filter { $0.envelope?.seller == seller }.map(\.receipt)
            if !mine.isEmpty {
                let replies = try await control.pipeline([["XACK", routed.stream(kind), routed.group] + mine, ["XDEL", routed.stream(kind)] + mine])
                dropped += replies[1].int ?? 0
            }
            let delayed = try await control.send(["ZRANGE", routed.delayed(kind), "0", "-1"])
            let members = (delayed.array ?? []).compactMap(\.string).filter { member in
                if case let .success(envelope) = JobEnvelope.decode(member) { return envelope.seller == seller }
                return false
            }
            if !members.isEmpty { dropped += try await control.send(["ZREM", routed.delayed(kind)] + members).int ?? 0 }
        }
        let parked = try await control.pipeline([["LLEN", routed.waiting(seller)], ["DEL", routed.waiting(seller)],
                                                 ["SREM", routed.waitingSellers, seller.rawValue]])
        return dropped + (parked[0].int ?? 0)
    }

    // MARK: - Parsing

    private func delayMs(_ at: Date) -> Int { max(0, Int((at.timeIntervalSinceNow * 1000).rounded(.up))) }

    private func parseStreams(_ reply: RedisValue, kinds: [JobKind]) -> [Delivery] {
        guard let streams = reply.array else { return [] }
        var out: [Delivery] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string,
                  let kind = kinds.first(where: { keys.stream($0) == name }), let entries = pair[1].array else { continue }
            out += parseEntries(entries, kind: kind)
        }
        return out
    }

    private func parseEntries(_ entries: [RedisValue], kind: JobKind) -> [Delivery] {
        var out: [Delivery] = []
        out.reserveCapacity(entries.count)
        for entry in entries {
            guard case let .array(parts) = entry, parts.count == 2, let id = parts[0].string else { continue }
            // The `job` field, read without building a dictionary per entry (this runs for every job).
            var raw: String?
            if case let .array(fields) = parts[1] {
                var i = 0
                while i + 1 < fields.count {
                    if case let .bulk(name) = fields[i], name.elementsEqual("job".utf8) { raw = fields[i + 1].string }
                    i += 2
                }
            }
            let message = raw ?? pairs(parts[1]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            out.append(Delivery(kind: kind, receipt: id, raw: message))
        }
        return out
    }

    private func parseDead(_ reply: RedisValue) -> [DeadJob] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            let f = pairs(parts[1])
            return DeadJob(deadID: id, kind: f["kind"] ?? "", jobID: f["job_id"] ?? "", seller: f["seller"] ?? "",
                           reason: f["reason"] ?? "", failedAt: Int64(f["failed_at"] ?? "") ?? 0,
                           attempt: Int(f["attempt"] ?? "") ?? 0, message: f["message"] ?? "")
        }
    }

    private func pairs(_ reply: RedisValue) -> [String: String] {
        guard let items = reply.array else { return [:] }
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if let key = items[i].string { out[key] = items[i + 1].string ?? "" }
            i += 2
        }
        return out
    }
}

/// Latency histogram increments of one kind within a settled batch (one bucket per job, plus sum and count).
struct LatencyTally {
    private static let fields = RedisKeys.latencyBounds.map { RedisKeys.latencyField(seconds: $0) }
    private var buckets = [Int](repeating: 0, count: RedisKeys.latencyBounds.count)
    private var sumMs = 0
    private var count = 0

    mutating func add(milliseconds ms: Int) {
        let seconds = Double(ms) / 1000
        buckets[RedisKeys.latencyBounds.firstIndex { seconds <= $0 } ?? buckets.count - 1] += 1
        sumMs += ms
        count += 1
    }

    /// Appends the field count and then (field, increment) pairs, as ``Scripts/settle`` reads them.
    func appendFields(to args: inout [String]) {
        guard count > 0 else {
            args.append("0")
            return
        }
        let used = buckets.indices.filter { buckets[$0] > 0 }
        args.append(String(used.count + 2))
        for index in used {
            args.append(LatencyTally.fields[index])
            args.append(String(buckets[index]))
        }
        args.append(contentsOf: ["sum_ms", String(sumMs), "count", String(count)])
    }
}
