import Domain
import Foundation
import JobQueue
import Logging
import Redis

/// The production ``JobQueue``: Redis Streams with one consumer group per job kind.
///
/// Round trips are what limit a Redis queue, so reads, acknowledgements, lock requests and
/// releases are batched: a batch of jobs costs about three round trips whatever its size.
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
    public func enqueue(batch: [EnqueueRequest]) async throws -> [EnqueueResult] {
        let calls = try batch.map { request -> (RedisScript, [String], [String]) in
            let job = request.job
            try job.validate()
            let routed = keys.routed(to: job.seller)
            let delayMs = request.at.map { Int(($0.timeIntervalSinceNow * 1000).rounded(.up)) } ?? 0
            let uniqueMs = request.uniqueKey == nil ? 0 : max(1, Int(request.uniqueFor * 1000))
            return (Scripts.enqueue, [routed.stream(job.kind), routed.delayed(job.kind), routed.unique(request.uniqueKey ?? "-")],
                    [job.encoded(), String(delayMs), String(uniqueMs), job.id])
        }
        let replies = try await control.evalPipeline(calls)
        return try zip(batch, replies).map { request, reply in
            guard let parts = reply.array, parts.count == 2, let flag = parts[0].int else {
                throw RedisError(.reply, "enqueue of \(request.job.kind) job for seller \(request.job.seller) failed: \(reply.errorMessage ?? "unexpected reply")")
            }
            return flag == 1 ? .enqueued(id: request.job.id) : .duplicate(uniqueKey: request.uniqueKey ?? "")
        }
    }

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

    public func settle(_ outcomes: [Outcome], unlocking locks: [(SellerID, String)]) async throws {
        var calls: [(RedisScript, [String], [String])] = []
        var plain: [[String]] = []
        var completed: [JobKind: [String]] = [:]
        var latency: [JobKind: [String: Int]] = [:]
        var deadLetterSlots: [Int] = []
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        func recordLatency(_ d: Delivery) {
            guard let enqueued = d.envelope?.enqueuedAt else { return }
            let ms = Int(max(0, nowMs - enqueued))
            latency[d.kind, default: [:]][RedisKeys.latencyField(seconds: Double(ms) / 1000), default: 0] += 1
            latency[d.kind, default: [:]]["sum_ms", default: 0] += ms
            latency[d.kind, default: [:]]["count", default: 0] += 1
        }
        for outcome in outcomes {
            let d = outcome.delivery
            let stream = keys.stream(d.kind)
            switch outcome {
            case .completed:
                recordLatency(d)
                completed[d.kind, default: []].append(d.receipt)
            case let .retry(_, next, at, _):
                calls.append((Scripts.reschedule, [stream, keys.delayed(d.kind), keys.stats(d.kind)],
                              [d.receipt, keys.group, next.encoded(), String(delayMs(at)), "retried"]))
            case let .deferred(_, next, _):
                calls.append((Scripts.park, [stream, keys.lock(next.seller), keys.waiting(next.seller), keys.waitingSellers, keys.stats(d.kind)],
                              [d.receipt, keys.group, d.kind.rawValue, next.encoded(), next.seller.rawValue]))
            case let .dead(_, reason):
                recordLatency(d)
                deadLetterSlots.append(calls.count)
                calls.append((Scripts.deadLetter, [stream, keys.dead, keys.stats(d.kind)],
                              [d.receipt, keys.group, d.raw, reason, d.kind.rawValue, d.envelope?.id ?? "",
                               d.envelope?.seller.rawValue ?? "", String(d.envelope?.attempt ?? 0), String(deadLetterCap)]))
            case .requeue:
                calls.append((Scripts.requeue, [stream], [d.receipt, keys.group, d.raw]))
            }
        }
        for (kind, ids) in completed.sorted(by: { $0.key < $1.key }) {
            plain.append(["XACK", keys.stream(kind), keys.group] + ids)
            plain.append(["XDEL", keys.stream(kind)] + ids)
            plain.append(["HINCRBY", keys.stats(kind), "processed", String(ids.count)])
        }
        for (kind, fields) in latency.sorted(by: { $0.key < $1.key }) {
            for (field, n) in fields.sorted(by: { $0.key < $1.key }) {
                plain.append(["HINCRBY", keys.latency(kind), field, String(n)])
            }
        }
        for (seller, token) in locks {
            calls.append((Scripts.unlock, [keys.lock(seller), keys.waiting(seller), keys.waitingSellers, keys.streamPrefix],
                          [token, seller.rawValue]))
        }
        var commands = plain
        commands += calls.map { $0.0.command(keys: $0.1, args: $0.2) }
        var replies = try await control.pipeline(commands)
        let scripted = Array(replies[plain.count...])
        let missing = scripted.indices.filter { scripted[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        if !missing.isEmpty {
            let retried = try await control.pipeline(missing.map { calls[$0].0.evalCommand(keys: calls[$0].1, args: calls[$0].2) })
            for (slot, reply) in zip(missing, retried) { replies[plain.count + slot] = reply }
        }
        if let error = replies.compactMap(\.errorMessage).first {
            throw RedisError(.reply, "settling \(outcomes.count) jobs failed: \(error)")
        }
        if let length = deadLetterSlots.compactMap({ replies[plain.count + $0].int }).max(), length >= deadLetterCap * 9 / 10 {
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

    public func lockSellers(_ requests: [(SellerID, String)], ttl: Double) async throws -> [LockResult] {
        let ttlMs = String(Int(ttl * 1000))
        let replies = try await control.evalPipeline(requests.map { (Scripts.lock, [keys.lock($0.0)], [$0.1, ttlMs]) })
        return try replies.map { reply in
            guard let value = reply.int else { throw RedisError(.reply, "seller lock failed: \(reply.errorMessage ?? "unexpected reply")") }
            return value < 0 ? .acquired : .busy(retryAfter: Double(value) / 1000)
        }
    }

    public func renewSellerLocks(_ locks: [(SellerID, String)], ttl: Double) async throws {
        let ttlMs = String(Int(ttl * 1000))
        _ = try await control.evalPipeline(locks.map { (Scripts.renewLock, [keys.lock($0.0)], [$0.1, ttlMs]) })
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

    public func status(kinds: [JobKind]) async throws -> [KindStatus] {
        var commands: [[String]] = []
        for kind in kinds {
            commands.append(["XLEN", keys.stream(kind)])
            commands.append(["XPENDING", keys.stream(kind), keys.group])
            commands.append(["ZCARD", keys.delayed(kind)])
            commands.append(["HGETALL", keys.stats(kind)])
        }
        commands.append(["XRANGE", keys.dead, "-", "+"])
        let replies = try await control.pipeline(commands)
        let deadByKind = Dictionary(grouping: parseDead(replies.last!), by: \.kind).mapValues(\.count)
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
            status.deadLettered = deadByKind[kind.rawValue] ?? 0
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
        var count = 0
        for id in ids {
            let reply = try await control.send(["XRANGE", keys.dead, id, id])
            guard let job = parseDead(reply).first else { continue }
            var message = job.message
            var seller: SellerID?
            if case var .success(envelope) = JobEnvelope.decode(message) {
                envelope.attempt = 0
                message = envelope.encoded()
                seller = envelope.seller
            }
            let target = seller.map { keys.routed(to: $0) } ?? keys
            let moved = try await control.eval(Scripts.retryDead, keys: [keys.dead, target.stream(JobKind(rawValue: job.kind))], args: [id, message])
            count += moved.int ?? 0
        }
        return count
    }

    public func dropDead(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await control.send(["XDEL", keys.dead] + ids).int ?? 0
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
        entries.compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            let fields = pairs(parts[1])
            let raw = fields["job"] ?? fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return Delivery(kind: kind, receipt: id, raw: raw)
        }
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
