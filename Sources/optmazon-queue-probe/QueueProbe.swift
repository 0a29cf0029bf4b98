import ArgumentParser
import Foundation
import JobQueue
import JobQueueRedis
import Redis
import Runtime

/// A worker whose jobs do what their arguments say, and record it in Redis.
///
/// Used by the queue's process-level tests (SIGKILL, graceful shutdown, exclusivity, restarts)
/// and by `scripts/bench queue`; not part of the pipeline. Job arguments:
/// `sleep_ms` (work time), `fail` (`transient:N` fails the first N attempts, `permanent`).
/// It records per job id how often it started and finished, and any moment two jobs of one
/// seller ran at once.
@main
struct QueueProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-queue-probe", abstract: "Test/benchmark worker.")

    @OptionGroup var options: WorkerOptions

    @Option(help: "Job kinds to consume (comma-separated).")
    var kinds = "fetch"

    @Flag(help: "Record nothing: pure queue overhead (benchmark).")
    var noop = false

    func run() async throws {
        let kinds = self.kinds.split(separator: ",").map { JobKind(rawValue: String($0)) }
        let noop = self.noop
        try await WorkerRuntime.run(name: "optmazon-queue-probe", kinds: kinds, options: options) { settings, queue, _ in
            noop ? NoopHandler() as any JobHandler : ProbeHandler(redis: queue.client, keys: settings.keys)
        }
    }
}

struct NoopHandler: JobHandler {
    func handle(_ job: JobEnvelope, context: JobContext) async throws {}
}

struct ProbeHandler: JobHandler {
    let redis: RedisClient
    let keys: RedisKeys

    func handle(_ job: JobEnvelope, context: JobContext) async throws {
        let active = keys.probe("active:\(job.seller.rawValue)")
        let replies = try await checked(redis.pipeline([["HINCRBY", keys.probe("starts"), job.id, "1"], ["INCR", active]]))
        if (replies[1].int ?? 0) > 1 { _ = try await checked(redis.pipeline([["INCR", keys.probe("violations")]])) }
        do {
            if let ms = job.arguments["sleep_ms"].flatMap(Int.init), ms > 0 {
                try await Task.sleep(for: .milliseconds(ms))
            }
            if let fail = job.arguments["fail"] {
                if fail == "permanent" { throw JobError.permanent("probe told to fail permanently") }
                if fail.hasPrefix("transient:"), let n = Int(fail.dropFirst("transient:".count)), job.attempt < n {
                    throw JobError.transient("probe told to fail attempt \(job.attempt)")
                }
            }
        } catch {
            _ = try? await redis.send(["DECR", active])
            throw error
        }
        let now = String(Int(Date().timeIntervalSince1970 * 1000))
        _ = try await checked(redis.pipeline([
            ["DECR", active],
            ["HINCRBY", keys.probe("done"), job.id, "1"],
            ["RPUSH", keys.probe("order"), job.seller.rawValue],
            ["RPUSH", keys.probe("attempts:\(job.id)"), now],
        ]))
    }

    /// Error replies (e.g. `LOADING` while a restarted Redis replays its AOF) fail the job
    /// transiently, so the worker retries it instead of counting work that was never recorded.
    private func checked(_ replies: [RedisValue]) throws -> [RedisValue] {
        if let error = replies.compactMap(\.errorMessage).first {
            throw JobError.transient("probe bookkeeping failed: \(error)")
        }
        return replies
    }
}
