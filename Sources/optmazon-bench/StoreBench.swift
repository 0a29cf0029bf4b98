#if canImport(Glibc)
import Glibc
#endif
import Domain
import Foundation
@_spi(Benchmark) import SellerStore

/// `optmazon-bench store`: throughput of the encrypted seller store against plain SQLite.
///
/// Both sides run the same GRDB code, schema and settings (WAL, 64 MiB page cache,
/// temp_store=MEMORY, secure_delete=ON); only the encrypting VFS differs. Two workloads:
/// raw rows (one prepared INSERT per row in one transaction, then a full cursor read) and
/// the store's own records (`SalesTrafficRow` via `save` / `rows`). Each round runs both sides on
/// fresh files, alternating which goes first; the median of each side is reported, by wall clock
/// and by process CPU time (steadier when other processes share the machine).
enum StoreBench {
    static func run(rows: Int, rounds: Int = 5) async throws -> [String] {
        var template = Array((NSTemporaryDirectory() + "/optmazon-bench-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let root = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let storage = try SellerStorage(
            StoreLocations(dataDirectory: root + "/data", keyDirectory: root + "/keys", masterKey: .generate()),
            tuning: StoreTuning(cacheSizeKiB: 65536))

        var times: [String: [Double]] = [:]
        var cpu: [String: [Double]] = [:]
        func measure(_ key: String, _ body: () async throws -> Void) async throws {
            let (wall, used) = try await seconds(body)
            times[key, default: []].append(wall)
            cpu[key, default: []].append(used)
        }
        for round in 0..<rounds {
            for encrypted in round % 2 == 0 ? [false, true] : [true, false] {
                let id = SellerID(rawValue: "BENCH\(round)\(encrypted ? "E" : "P")")!
                let store = encrypted ? try await storage.openSeller(id) : try await storage.openSellerWithoutEncryption(id)
                let side = encrypted ? "encrypted" : "plain"
                try await measure("\(side) insert") { try await store.benchmarkInsertItems(count: rows) }
                try await measure("\(side) read") { _ = try await store.benchmarkReadItems() }
                let records = (0..<rows).map { i in
                    SalesTrafficRow(day: Day(rawValue: "2026-11-01")!, marketplaceID: "ATVPDKIKX0DER", asin: "B\(i)",
                                    sessions: i, pageViews: 2 * i, buyBoxPercentage: 90, unitSessionPercentage: 12,
                                    unitsOrdered: i % 7, orderedProductSales: Double(i) * 1.5)
                }
                try await measure("\(side) record insert") { try await store.save(records) }
                try await measure("\(side) record read") { _ = try await store.rows(SalesTrafficRow.self) }
                await store.close()
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        var lines = [
            "store benchmark: \(rows) rows, median of \(rounds) rounds (ratio = plain time / encrypted time; target >= 0.90)",
            "workload        plain rows/s  encrypted rows/s  ratio (wall)  ratio (process CPU)",
        ]
        for workload in ["insert", "read", "record insert", "record read"] {
            let plainWall = median(times["plain \(workload)"]!), encWall = median(times["encrypted \(workload)"]!)
            let plainCPU = median(cpu["plain \(workload)"]!), encCPU = median(cpu["encrypted \(workload)"]!)
            lines.append(workload.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "%12.0f  %16.0f  %12.2f  %19.2f",
                         Double(rows) / plainWall, Double(rows) / encWall, plainWall / encWall, plainCPU / encCPU))
        }
        return lines
    }

    /// Wall-clock and process CPU seconds of `body` (CPU time is steadier on a shared machine).
    private static func seconds(_ body: () async throws -> Void) async throws -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let start = ContinuousClock.now, cpuStart = cpuNow()
        try await body()
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpuNow() - cpuStart)
    }
}
