import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import Redis

/// Measures the queue end to end with real worker processes (`optmazon-queue-probe --noop`).
///
/// Every guarantee stays on: consumer-group leases, per-seller locks, batched acks, heartbeats.
/// The headline figure is "end to end": jobs enqueued while the workers run, so the enqueuer,
/// Redis and the workers share the machine's cores. The pre-filled drain figures measure the
/// workers alone on a queue filled beforehand.
enum QueueBench {
    static func run(redisURL: String, jobs: Int, binDirectory: URL) async throws -> [String] {
        let endpoint = try RedisEndpoint(url: redisURL)
        var lines: [String] = []

        let enqueueRate = try await measureEnqueue(endpoint: endpoint, jobs: jobs)
        lines.append(String(format: "enqueue rate: %.0f jobs/s (%d jobs, batches of 500)", enqueueRate, jobs))

        for workers in [1, 2] {
            let result = try await measureDrain(endpoint: endpoint, jobs: jobs, workers: workers, binDirectory: binDirectory)
            lines.append(String(format: "end to end, %d worker process%@: %.0f jobs/s (%d no-op jobs over %d sellers, enqueued while workers run)",
                                workers, workers == 1 ? "" : "es", result.rate, jobs, sellers(for: jobs)))
            lines.append(String(format: "peak RSS of a busy worker (%d process%@): %.1f MB", workers, workers == 1 ? "" : "es", result.busyRSS))
        }
        for workers in [1, 2] {
            let rate = try await measurePrefilledDrain(endpoint: endpoint, jobs: jobs, workers: workers, binDirectory: binDirectory)
            lines.append(String(format: "drain of a pre-filled queue, %d worker process%@: %.0f jobs/s (%d no-op jobs enqueued before the workers started; timed from the first completed job)",
                                workers, workers == 1 ? "" : "es", rate, jobs))
        }
        lines += try await measureIdleMemory(endpoint: endpoint, binDirectory: binDirectory)
        return lines
    }

    private static func sellers(for jobs: Int) -> Int { min(10_000, max(1, jobs / 10)) }

    private static func makeQueue(_ endpoint: RedisEndpoint, prefix: String) -> RedisJobQueue {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: logger)
    }

    private static func requests(_ count: Int) -> [EnqueueRequest] {
        let sellerCount = sellers(for: count)
        return (0..<count).map { i in
            EnqueueRequest(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "BENCH\(i % sellerCount)")!))
        }
    }

    private static func measureEnqueue(endpoint: RedisEndpoint, jobs: Int) async throws -> Double {
        let prefix = "bench-enqueue-\(UUID().uuidString.prefix(6))"
        let queue = makeQueue(endpoint, prefix: prefix)
        let all = requests(jobs)
        let start = Date()
        for chunk in stride(from: 0, to: all.count, by: 500) {
            _ = try await queue.enqueue(batch: Array(all[chunk..<min(chunk + 500, all.count)]))
        }
        let rate = Double(jobs) / Date().timeIntervalSince(start)
        try await deleteKeys(endpoint, prefix: prefix)
        return rate
    }

    private static func measureDrain(endpoint: RedisEndpoint, jobs: Int, workers: Int,
                                     binDirectory: URL) async throws -> (rate: Double, busyRSS: Double) {
        let prefix = "bench-drain-\(UUID().uuidString.prefix(6))"
        let queue = makeQueue(endpoint, prefix: prefix)
        try await queue.prepare(kinds: [.fetch])
        let processes = try (0..<workers).map { _ in try startWorker(endpoint: endpoint, prefix: prefix, binDirectory: binDirectory) }
        defer { processes.forEach { $0.terminate() } }
        try await waitUntil(timeout: 60) { try await queue.consumers().count == workers }
        let all = requests(jobs)
        let start = Date()
        for chunk in stride(from: 0, to: all.count, by: 500) {
            _ = try await queue.enqueue(batch: Array(all[chunk..<min(chunk + 500, all.count)]))
        }
        var peak = 0.0
        try await waitUntil(timeout: 600, every: 0.01) {
            peak = max(peak, processes.map { megabytes(pid: $0.processIdentifier, field: "VmHWM") }.max() ?? 0)
            return try await queue.status(kinds: [.fetch])[0].processed >= jobs
        }
        let rate = Double(jobs) / Date().timeIntervalSince(start)
        peak = max(peak, processes.map { megabytes(pid: $0.processIdentifier, field: "VmHWM") }.max() ?? 0)
        processes.forEach { $0.terminate() }
        processes.forEach { $0.waitUntilExit() }
        try await deleteKeys(endpoint, prefix: prefix)
        return (rate, peak)
    }

    /// Jobs completed per second by workers started on a full queue, from their first completed job
    /// (so process start-up is not counted) until the last.
    private static func measurePrefilledDrain(endpoint: RedisEndpoint, jobs: Int, workers: Int, binDirectory: URL) async throws -> Double {
        let prefix = "bench-prefilled-\(UUID().uuidString.prefix(6))"
        let queue = makeQueue(endpoint, prefix: prefix)
        try await queue.prepare(kinds: [.fetch])
        let all = requests(jobs)
        for chunk in stride(from: 0, to: all.count, by: 500) {
            _ = try await queue.enqueue(batch: Array(all[chunk..<min(chunk + 500, all.count)]))
        }
        let processes = try (0..<workers).map { _ in try startWorker(endpoint: endpoint, prefix: prefix, binDirectory: binDirectory) }
        defer { processes.forEach { $0.terminate() } }
        var first: (at: Date, processed: Int)?
        try await waitUntil(timeout: 600, every: 0.005) {
            let processed = try await queue.status(kinds: [.fetch])[0].processed
            if first == nil, processed > 0 { first = (Date(), processed) }
            return processed >= jobs
        }
        let start = first!
        let rate = Double(jobs - start.processed) / Date().timeIntervalSince(start.at)
        processes.forEach { $0.terminate() }
        processes.forEach { $0.waitUntilExit() }
        try await deleteKeys(endpoint, prefix: prefix)
        return rate
    }

    /// The executables whose idle memory is measured: the no-op probe (the queue alone) and every stage worker.
    static let idleWorkers = ["optmazon-queue-probe", "optmazon-fetcher", "optmazon-analyzer", "optmazon-alerter", "optmazon-janitor"]

    /// Idle memory of each worker executable, all running side by side on one Redis and a fresh data directory.
    ///
    /// RSS counts every page a process has mapped, including library and binary pages that other processes map
    /// too; PSS divides each shared page among the processes that map it, so the PSS sum is what the workers
    /// together really take.
    private static func measureIdleMemory(endpoint: RedisEndpoint, binDirectory: URL) async throws -> [String] {
        let prefix = "bench-idle-\(UUID().uuidString.prefix(6))"
        let queue = makeQueue(endpoint, prefix: prefix)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(prefix)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: root) }
        var masterKey = [UInt8](repeating: 0, count: 32)
        for i in masterKey.indices { masterKey[i] = UInt8.random(in: 0...255) }
        let unreachable = "http://127.0.0.1:9" // idle workers call no one
        let stageEnvironment = [
            "OPTMAZON_DATA_DIR": root.appendingPathComponent("data").path,
            "OPTMAZON_KEY_DIR": root.appendingPathComponent("keys").path,
            "OPTMAZON_MASTER_KEY": Data(masterKey).base64EncodedString(),
            "OPTMAZON_SPAPI_URL": unreachable, "OPTMAZON_ADS_URL": unreachable, "OPTMAZON_LWA_URL": unreachable + "/auth/o2/token",
            "OPTMAZON_LWA_CLIENT_SECRET": "bench", "OPTMAZON_WEBHOOK_SIGNING_SECRET": String(repeating: "b", count: 40),
        ]
        var processes: [(name: String, process: Process)] = []
        defer { processes.forEach { $0.process.terminate() } }
        for name in idleWorkers {
            let arguments = name == "optmazon-queue-probe" ? ["--noop", "--kinds", "fetch", "--concurrency", "64"] : []
            processes.append((name, try startWorker(name, arguments: arguments, endpoint: endpoint, prefix: prefix,
                                                    binDirectory: binDirectory, extraEnvironment: stageEnvironment)))
        }
        try await waitUntil(timeout: 120) { try await queue.consumers().count == idleWorkers.count }
        try await Task.sleep(for: .seconds(3))
        var lines: [String] = []
        var rssSum = 0.0, pssSum = 0.0
        for (name, process) in processes {
            let rss = megabytes(pid: process.processIdentifier, field: "VmRSS")
            let pss = megabytes(pid: process.processIdentifier, field: "Pss", file: "smaps_rollup")
            rssSum += rss
            pssSum += pss
            let what = name == "optmazon-queue-probe" ? "an idle worker (optmazon-queue-probe: the queue alone)" : "an idle \(name)"
            lines.append(String(format: "RSS of %@: %.1f MB (PSS %.1f MB)", what, rss, pss))
        }
        lines.append(String(format: "all %d idle workers side by side: RSS sum %.1f MB, PSS sum %.1f MB (their real footprint)",
                            processes.count, rssSum, pssSum))
        processes.forEach { $0.process.terminate() }
        processes.forEach { $0.process.waitUntilExit() }
        try await deleteKeys(endpoint, prefix: prefix)
        return lines
    }

    private static func startWorker(endpoint: RedisEndpoint, prefix: String, binDirectory: URL) throws -> Process {
        try startWorker("optmazon-queue-probe", arguments: ["--noop", "--kinds", "fetch", "--concurrency", "64"],
                        endpoint: endpoint, prefix: prefix, binDirectory: binDirectory)
    }

    private static func startWorker(_ name: String, arguments: [String], endpoint: RedisEndpoint, prefix: String, binDirectory: URL,
                                    extraEnvironment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.merging(extraEnvironment) { _, new in new }
        env["OPTMAZON_REDIS_URL"] = "redis://\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
        env["OPTMAZON_KEY_PREFIX"] = prefix
        env["OPTMAZON_LOG_LEVEL"] = "error"
        env["OPTMAZON_WORKER_BATCH_SIZE"] = "500"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A memory figure of a process from /proc in MB (10^6 bytes; the kernel reports KiB): `VmRSS` now, `VmHWM`
    /// peak (in `status`), or `Pss` (in `smaps_rollup`).
    static func megabytes(pid: Int32, field: String, file: String = "status") -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kib = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") else { return 0 }
        return kib * 1024 / 1_000_000
    }

    private static func waitUntil(timeout: Double, every: Double = 0.05, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try await !condition() {
            guard Date() < deadline else { throw BenchError("timed out after \(Int(timeout))s") }
            try await Task.sleep(for: .seconds(every))
        }
    }

    private static func deleteKeys(_ endpoint: RedisEndpoint, prefix: String) async throws {
        let client = RedisClient(endpoint: endpoint, label: "bench-cleanup")
        let keys = try await client.send(["KEYS", "{\(prefix):*"]).array?.compactMap(\.string) ?? []
        if !keys.isEmpty { _ = try await client.send(["DEL"] + keys) }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
