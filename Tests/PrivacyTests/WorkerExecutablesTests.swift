import Foundation
import JobQueue
import PipelineTesting
import Testing

/// The stage executables an operator scales with the Procfile, as real processes: two of each on one data
/// directory, the way `honcho start -c analyzer=2` runs them.
@Suite("Worker executables", .serialized)
struct WorkerExecutablesTests {
    static let workers = ["optmazon-fetcher", "optmazon-analyzer", "optmazon-alerter", "optmazon-janitor"]

    @Test("two processes of every stage worker create a fresh data directory, then exit 0 on SIGTERM without a crash report",
          arguments: workers)
    func twoOfEachStopGracefully(worker: String) async throws {
        let f = try await PrivacyFixture()
        var environment = f.environment
        // Directories no other process opened: the workers create the registry, so the last one to stop
        // checkpoints its write-ahead log while it exits.
        environment["OPTMAZON_DATA_DIR"] = f.root.appendingPathComponent("\(worker)-data").path
        environment["OPTMAZON_KEY_DIR"] = f.root.appendingPathComponent("\(worker)-keys").path
        environment["OPTMAZON_LOG_LEVEL"] = "info"
        // Nothing listens there: idle workers never call Amazon or a webhook.
        environment["OPTMAZON_SPAPI_URL"] = "http://127.0.0.1:9"
        environment["OPTMAZON_ADS_URL"] = "http://127.0.0.1:9"
        environment["OPTMAZON_LWA_URL"] = "http://127.0.0.1:9/auth/o2/token"
        environment["OPTMAZON_LWA_CLIENT_SECRET"] = "unused-secret"
        environment["OPTMAZON_WEBHOOK_SIGNING_SECRET"] = String(repeating: "s", count: 40)
        let processes = try (0..<2).map { _ in try ProductProcess(worker, environment: environment) }
        try await eventually("both \(worker) processes are consuming or gone", timeout: 120) {
            processes.allSatisfy { $0.standardError.contains("worker started") || !$0.isRunning }
        }
        for process in processes {
            #expect(process.isRunning, "\(worker) stopped at start: \(process.standardError.prefix(2000))")
        }
        for process in processes { process.signal(SIGTERM) }
        for process in processes {
            let status = try await process.wait(timeout: 60)
            #expect(status == 0, "\(worker) exited with \(status): \(process.standardError.prefix(2000))")
            #expect(process.standardError.contains("worker stopped"))
            #expect(!process.standardError.contains("crashed"), "\(process.standardError.prefix(2000))")
        }
        try await f.cleanup()
    }
}
