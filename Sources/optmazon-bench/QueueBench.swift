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
        let idle = try await measureIdleRSS(endpoint: endpoint, binDirectory: binDirectory)
        lines.append(String(format: "RSS of an idle worker: %.1f MB", idle))
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
            peak = max(peak, processes.map { rssMB(pid: $0.processIdentifier, field: "VmHWM") }.max() ?? 0)
            return try await queue.status(kinds: [.fetch])[0].processed >= jobs
        }
        let rate = Double(jobs) / Date().timeIntervalSince(start)
        peak = max(peak, processes.map { rssMB(pid: $0.processIdentifier, field: "VmHWM") }.max() ?? 0)
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

    private static func measureIdleRSS(endpoint: RedisEndpoint, binDirectory: URL) async throws -> Double {
        let prefix = "bench-idle-\(UUID().uuidString.prefix(6))"
        let queue = makeQueue(endpoint, prefix: prefix)
        let process = try startWorker(endpoint: endpoint, prefix: prefix, binDirectory: binDirectory)
        try await waitUntil(timeout: 60) { try await queue.consumers().count == 1 }
        try await Task.sleep(for: .seconds(3))
        let rss = rssMB(pid: process.processIdentifier, field: "VmRSS")
        process.terminate()
        process.waitUntilExit()
        try await deleteKeys(endpoint, prefix: prefix)
        return rss
    }

    private static func startWorker(endpoint: RedisEndpoint, prefix: String, binDirectory: URL) throws -> Process {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent("optmazon-queue-probe")
        process.arguments = ["--noop", "--kinds", "fetch", "--concurrency", "64"]
        var env = ProcessInfo.processInfo.environment
        env["OPTMAZON_REDIS_URL"] = "redis://\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
        env["OPTMAZON_KEY_PREFIX"] = prefix
        env["OPTMAZON_LOG_LEVEL"] = "error"
        env["OPTMAZON_WORKER_BATCH_SIZE"] = "500"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Resident memory of a process in MB, from /proc (VmRSS now, VmHWM peak).
    static func rssMB(pid: Int32, field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kb = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") else { return 0 }
        return kb / 1024
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
