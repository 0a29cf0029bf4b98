import Domain
import Foundation
import JobQueue
import Logging
import Scheduling
import SellerStore
import Synchronization

/// A clock tests set by hand.
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ date: Date) { value = Mutex(date) }

    func now() -> Date { value.withLock { $0 } }
    func set(_ date: Date) { value.withLock { $0 = date } }
}

/// A seller registry held in memory.
final class StaticDirectory: SellerDirectory {
    private let sellers: Mutex<[ScheduledSeller]>

    init(_ sellers: [ScheduledSeller]) { self.sellers = Mutex(sellers) }

    func schedulableSellers() async throws -> [ScheduledSeller] { sellers.withLock { $0 } }
    func replace(_ list: [ScheduledSeller]) { sellers.withLock { $0 = list } }
}

func seller(_ raw: String, _ marketplace: String = "ATVPDKIKX0DER", status: SellerStatus = .active,
            createdAt: Date = .distantPast, revokedAt: Date? = nil) -> ScheduledSeller {
    ScheduledSeller(id: SellerID(rawValue: raw)!, marketplaceIDs: [marketplace], status: status, createdAt: createdAt, revokedAt: revokedAt)
}

func date(_ iso: String) -> Date { try! Date(iso, strategy: .iso8601) }

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}

/// Every job in the in-memory queue (ready and delayed), drained.
func drain(_ queue: InMemoryJobQueue, kinds: [JobKind] = JobKind.all) async throws -> [JobEnvelope] {
    _ = try await queue.promoteDue(kinds: kinds, now: .distantFuture)
    return try await queue.dequeue(kinds: kinds, consumer: "test", max: 100_000, wait: 0).compactMap(\.envelope)
}
