import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import PipelineTesting
import Privacy
import Redis
import SellerStore
import Synchronization

/// A throwaway store (data and key directories, master key) plus a Redis queue under its own prefix.
struct PrivacyFixture {
    let root: URL
    let masterKey: MasterKey
    let storage: SellerStorage
    let control: ControlStore
    let endpoint: RedisEndpoint
    let prefix: String
    let queue: RedisJobQueue
    let redis: RedisClient

    var dataDir: String { root.appendingPathComponent("data").path }
    var keyDir: String { root.appendingPathComponent("keys").path }

    init(name: String = #function) async throws {
        root = try TemporaryDirectory.make(prefix: "privacy")
        masterKey = MasterKey.generate()
        storage = try SellerStorage(StoreLocations(dataDirectory: root.appendingPathComponent("data").path,
                                                   keyDirectory: root.appendingPathComponent("keys").path, masterKey: masterKey))
        control = try await storage.openControlStore()
        endpoint = try await SharedRedis.endpoint()
        prefix = SharedRedis.uniquePrefix(name)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: logger)
        redis = RedisClient(endpoint: endpoint, label: "test")
    }

    /// Environment for `optmazon` and `optmazon-janitor` processes bound to this fixture.
    var environment: [String: String] {
        [
            "OPTMAZON_REDIS_URL": "redis://\(endpoint.host):\(endpoint.port)/0",
            "OPTMAZON_KEY_PREFIX": prefix,
            "OPTMAZON_DATA_DIR": dataDir,
            "OPTMAZON_KEY_DIR": keyDir,
            "OPTMAZON_MASTER_KEY": masterKey.base64EncodedSecret(),
            "OPTMAZON_MASTER_KEY_FILE": "",
            "OPTMAZON_WORKER_BLOCK_SECONDS": "0.2",
            "OPTMAZON_RETRY_BASE_DELAY": "0.1",
            "OPTMAZON_LOG_LEVEL": "warning",
        ]
    }

    /// Registers an active seller with a refresh token and one US marketplace.
    func register(_ raw: String, token: String = "Atzr|SECRET-REFRESH-TOKEN-\(UUID().uuidString)") async throws -> SellerID {
        let id = SellerID(rawValue: raw)!
        try await control.register(try SellerRegistration(sellerID: id, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"], spRefreshToken: Secret(token)))
        return id
    }

    /// Saves listings captured on the given days (a distinctive title marks seller data).
    func store(_ seller: SellerID, listingDays: [Day], title: String = "Seller-Private-Title") async throws {
        let store = try await storage.openSeller(seller)
        try await store.save(listingDays.enumerated().map { i, day in listing("SKU\(i)", day: day, title: title) })
        try await store.save([traffic("B0TRAFFIC", day: listingDays.first ?? Day(Date()))])
        await store.close()
    }

    func context(for job: JobEnvelope) -> JobContext {
        var logger = Logger(label: "test-janitor")
        logger.logLevel = .critical
        return JobContext(logger: logger, queue: queue, delivery: Delivery(kind: job.kind, receipt: "0-1", raw: job.encoded()))
    }

    func cleanup() async throws {
        await control.close()
        try? FileManager.default.removeItem(at: root)
        try await SharedRedis.deleteKeys(prefix: prefix)
    }
}

func listing(_ sku: String, day: Day, title: String) -> ListingSnapshot {
    ListingSnapshot(day: day, marketplaceID: "ATVPDKIKX0DER", sku: sku, asin: "B0\(sku)", title: title,
                    bullets: ["bullet one"], description: "A description", backendKeywords: "kw1 kw2",
                    brand: "Brand", status: ["BUYABLE"], issues: [], price: 19.99, quantity: 5)
}

func traffic(_ asin: String, day: Day) -> SalesTrafficRow {
    SalesTrafficRow(day: day, marketplaceID: "ATVPDKIKX0DER", asin: asin, sessions: 10, pageViews: 20,
                    buyBoxPercentage: 95, unitSessionPercentage: 12.5, unitsOrdered: 3, orderedProductSales: 59.97)
}

func fileMode(_ path: String) -> Int {
    var st = stat()
    precondition(stat(path, &st) == 0, "no file \(path)")
    return Int(st.st_mode & 0o777)
}

func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : -1
}

/// A clock tests set by hand.
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ date: Date) { value = Mutex(date) }

    func now() -> Date { value.withLock { $0 } }
    func set(_ date: Date) { value.withLock { $0 = date } }
}

/// Runs a command-line tool (tar, sha256sum) to completion off the cooperative pool.
func runTool(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// Jobs of `kinds` currently in the queue's streams and delayed sets (seller and kind only).
func queuedJobs(_ f: PrivacyFixture, kinds: [JobKind]) async throws -> [(kind: String, seller: String)] {
    var out: [(String, String)] = []
    for kind in kinds {
        let stream = try await f.redis.send(["XRANGE", f.queue.keys.stream(kind), "-", "+"])
        for entry in stream.array ?? [] {
            guard let fields = entry.array?.last?.array, fields.count >= 2, let raw = fields[1].string,
                  case let .success(job) = JobEnvelope.decode(raw) else { continue }
            out.append((kind.rawValue, job.seller.rawValue))
        }
        let delayed = try await f.redis.send(["ZRANGE", f.queue.keys.delayed(kind), "0", "-1"])
        for member in delayed.array ?? [] {
            guard let raw = member.string, case let .success(job) = JobEnvelope.decode(raw) else { continue }
            out.append((kind.rawValue, job.seller.rawValue))
        }
    }
    return out
}
