import Domain
import Foundation

/// An in-process ``JobQueue`` with the same semantics as the Redis one, for handler and worker tests.
public actor InMemoryJobQueue: JobQueue {
    private struct Entry {
        var receipt: String
        var raw: String
        var consumer: String?
        var leasedAt: Date?
        var deliveries: Int
    }

    private var streams: [JobKind: [Entry]] = [:]
    private var delayed: [(kind: JobKind, at: Date, raw: String)] = []
    private var uniqueKeys: [String: Date] = [:]
    private var locks: [SellerID: (token: String, until: Date)] = [:]
    private var dead: [DeadJob] = []
    private var counters: [JobKind: KindStatus] = [:]
    private var heartbeats: [String: ConsumerInfo] = [:]
    private var sequence = 0
    private let now: @Sendable () -> Date

    /// - Parameter now: the clock, injectable so tests can move time.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Adds a raw message as if another process had written it (for malformed-message tests).
    public func injectRaw(_ raw: String, kind: JobKind) {
        streams[kind, default: []].append(Entry(receipt: nextReceipt(), raw: raw, deliveries: 0))
    }

    public func enqueue(_ job: JobEnvelope, at: Date?, uniqueKey: String?, uniqueFor: Double) async throws -> EnqueueResult {
        try job.validate()
        if let uniqueKey {
            if let until = uniqueKeys[uniqueKey], until > now() { return .duplicate(uniqueKey: uniqueKey) }
            uniqueKeys[uniqueKey] = now().addingTimeInterval(uniqueFor)
        }
        if let at, at > now() {
            delayed.append((job.kind, at, job.encoded()))
        } else {
            streams[job.kind, default: []].append(Entry(receipt: nextReceipt(), raw: job.encoded(), deliveries: 0))
        }
        return .enqueued(id: job.id)
    }

    public func prepare(kinds: [JobKind]) async throws {}

    public func dequeue(kinds: [JobKind], consumer: String, max: Int, wait: Double) async throws -> [Delivery] {
        var out: [Delivery] = []
        for kind in kinds {
            guard var entries = streams[kind] else { continue }
            for i in entries.indices where entries[i].consumer == nil && out.count < max {
                entries[i].consumer = consumer
                entries[i].leasedAt = now()
                entries[i].deliveries += 1
                out.append(Delivery(kind: kind, receipt: entries[i].receipt, raw: entries[i].raw, deliveryCount: entries[i].deliveries))
            }
            streams[kind] = entries
        }
        return out
    }

    public func ownPending(kinds: [JobKind], consumer: String, max: Int) async throws -> [Delivery] {
        kinds.flatMap { kind in
            (streams[kind] ?? []).filter { $0.consumer == consumer }
                .map { Delivery(kind: kind, receipt: $0.receipt, raw: $0.raw, deliveryCount: $0.deliveries) }
        }.prefix(max).map { $0 }
    }

    public func reclaim(kinds: [JobKind], consumer: String, minIdle: Double, max: Int) async throws -> [Delivery] {
        var out: [Delivery] = []
        for kind in kinds {
            guard var entries = streams[kind] else { continue }
            for i in entries.indices where out.count < max {
                guard entries[i].consumer != nil, let leased = entries[i].leasedAt,
                      now().timeIntervalSince(leased) >= minIdle else { continue }
                entries[i].consumer = consumer
                entries[i].leasedAt = now()
                entries[i].deliveries += 1
                out.append(Delivery(kind: kind, receipt: entries[i].receipt, raw: entries[i].raw, deliveryCount: entries[i].deliveries))
            }
            streams[kind] = entries
        }
        return out
    }

    public func renew(_ deliveries: [Delivery], consumer: String) async throws {
        for delivery in deliveries {
            guard let i = streams[delivery.kind]?.firstIndex(where: { $0.receipt == delivery.receipt && $0.consumer == consumer }) else { continue }
            streams[delivery.kind]![i].leasedAt = now()
        }
    }

    public func settle(_ outcomes: [Outcome], unlocking held: [(SellerID, String)]) async throws {
        defer { for (seller, token) in held where locks[seller]?.token == token { locks[seller] = nil } }
        for outcome in outcomes {
            let delivery = outcome.delivery
            guard remove(delivery) else { continue }
            switch outcome {
            case .completed:
                counters[delivery.kind, default: KindStatus(kind: delivery.kind.rawValue)].processed += 1
            case let .retry(_, next, at, _):
                counters[delivery.kind, default: KindStatus(kind: delivery.kind.rawValue)].retried += 1
                delayed.append((delivery.kind, at, next.encoded()))
            case let .dead(_, reason):
                counters[delivery.kind, default: KindStatus(kind: delivery.kind.rawValue)].failed += 1
                dead.append(DeadJob(deadID: nextReceipt(), kind: delivery.kind.rawValue, jobID: delivery.envelope?.id ?? "",
                                    seller: delivery.envelope?.seller.rawValue ?? "", reason: reason,
                                    failedAt: Int64(now().timeIntervalSince1970 * 1000), attempt: delivery.envelope?.attempt ?? 0,
                                    message: delivery.raw))
            case let .deferred(_, next, at):
                delayed.append((delivery.kind, at, next.encoded()))
            case .requeue:
                streams[delivery.kind, default: []].append(Entry(receipt: nextReceipt(), raw: delivery.raw, deliveries: 0))
            }
        }
    }

    public func promoteDue(kinds: [JobKind], now date: Date) async throws -> Int {
        var moved = 0
        delayed.removeAll { item in
            guard kinds.contains(item.kind), item.at <= date else { return false }
            streams[item.kind, default: []].append(Entry(receipt: nextReceipt(), raw: item.raw, deliveries: 0))
            moved += 1
            return true
        }
        return moved
    }

    public func nextDelayed(kinds: [JobKind]) async throws -> Date? {
        delayed.filter { kinds.contains($0.kind) }.map(\.at).min()
    }

    public func lockSellers(_ requests: [(SellerID, String)], ttl: Double) async throws -> [LockResult] {
        requests.map { seller, token in
            if let held = locks[seller], held.until > now(), held.token != token {
                return .busy(retryAfter: held.until.timeIntervalSince(now()))
            }
            locks[seller] = (token, now().addingTimeInterval(ttl))
            return .acquired
        }
    }

    public func renewSellerLocks(_ held: [(SellerID, String)], ttl: Double) async throws {
        for (seller, token) in held where locks[seller]?.token == token {
            locks[seller] = (token, now().addingTimeInterval(ttl))
        }
    }

    public func heartbeat(_ consumer: ConsumerInfo) async throws { heartbeats[consumer.name] = consumer }

    public func unregister(consumer: String, kinds: [JobKind]) async throws { heartbeats[consumer] = nil }

    public func status(kinds: [JobKind]) async throws -> [KindStatus] {
        kinds.map { kind in
            var status = counters[kind] ?? KindStatus(kind: kind.rawValue)
            status.streamLength = streams[kind]?.count ?? 0
            status.pending = streams[kind]?.filter { $0.consumer != nil }.count ?? 0
            status.delayed = delayed.filter { $0.kind == kind }.count
            status.deadLettered = dead.filter { $0.kind == kind.rawValue }.count
            return status
        }
    }

    public func consumers() async throws -> [ConsumerInfo] { heartbeats.values.sorted { $0.name < $1.name } }

    public func deadJobs(limit: Int) async throws -> [DeadJob] { Array(dead.prefix(limit)) }

    public func retryDead(ids: [String]) async throws -> Int {
        var count = 0
        for id in ids {
            guard let index = dead.firstIndex(where: { $0.deadID == id }) else { continue }
            let job = dead.remove(at: index)
            var raw = job.message
            if case var .success(envelope) = JobEnvelope.decode(raw) {
                envelope.attempt = 0
                raw = envelope.encoded()
            }
            streams[JobKind(rawValue: job.kind), default: []].append(Entry(receipt: nextReceipt(), raw: raw, deliveries: 0))
            count += 1
        }
        return count
    }

    public func dropDead(ids: [String]) async throws -> Int {
        let before = dead.count
        dead.removeAll { ids.contains($0.deadID) }
        return before - dead.count
    }

    public func dropJobs(of seller: SellerID, kinds: [JobKind]) async throws -> Int {
        var dropped = 0
        func belongs(_ raw: String) -> Bool {
            if case let .success(envelope) = JobEnvelope.decode(raw) { return envelope.seller == seller }
            return false
        }
        for kind in kinds {
            let before = streams[kind]?.count ?? 0
            streams[kind]?.removeAll { $0.consumer == nil && belongs($0.raw) }
            dropped += before - (streams[kind]?.count ?? 0)
        }
        let before = delayed.count
        delayed.removeAll { kinds.contains($0.kind) && belongs($0.raw) }
        return dropped + before - delayed.count
    }

    private func remove(_ delivery: Delivery) -> Bool {
        guard let index = streams[delivery.kind]?.firstIndex(where: { $0.receipt == delivery.receipt }) else { return false }
        streams[delivery.kind]!.remove(at: index)
        return true
    }

    private func nextReceipt() -> String {
        sequence += 1
        return "\(sequence)-0"
    }
}
