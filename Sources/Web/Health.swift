import Dispatch
import Foundation
public import Redis

/// The outcome of one `/healthz` probe: each dependency with `ok` or the one-line reason it failed.
public struct HealthReport: Sendable, Equatable {
    /// Dependency name → nil when healthy, else why not.
    public var failures: [String: String]
    /// Every dependency checked, in report order.
    public var checked: [String]

    /// True when every dependency answered.
    public var healthy: Bool { failures.isEmpty }

    /// `{"status":"ok"|"unavailable","checks":{name:"ok"|"failed: reason"},"failed":[names]}`.
    public var json: String {
        struct Body: Encodable {
            var status: String
            var checks: [String: String]
            var failed: [String]
        }
        let body = Body(status: healthy ? "ok" : "unavailable",
                        checks: Dictionary(uniqueKeysWithValues: checked.map { ($0, failures[$0].map { "failed: \($0)" } ?? "ok") }),
                        failed: checked.filter { failures[$0] != nil })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, a string dictionary and a string array always encode.
        return String(decoding: try! encoder.encode(body), as: UTF8.self) + "\n"
    }
}

/// Probes what the web process and the pipeline need: Redis answers PING, the key directory is readable.
public struct HealthChecker: Sendable {
    private let redis: RedisClient
    private let keyDirectory: String
    /// File-system checks run here, never on the cooperative pool (a hung NFS mount blocks the syscall).
    private static let fileQueue = DispatchQueue(label: "optmazon.web.health-files")

    /// - Parameter redis: a client with a short timeout, so a dead Redis answers `/healthz` quickly.
    public init(redis: RedisClient, keyDirectory: String) {
        self.redis = redis
        self.keyDirectory = keyDirectory
    }

    /// Runs both checks concurrently.
    public func check() async -> HealthReport {
        async let redisFailure = redisProblem()
        async let keyFailure = keyDirectoryProblem()
        var failures: [String: String] = [:]
        if let problem = await redisFailure { failures["redis"] = problem }
        if let problem = await keyFailure { failures["key_directory"] = problem }
        return HealthReport(failures: failures, checked: ["redis", "key_directory"])
    }

    private func redisProblem() async -> String? {
        do {
            let reply = try await redis.send(["PING"])
            if let error = reply.errorMessage { return "PING answered \(error.prefix(120))" }
            return reply.string == "PONG" ? nil : "PING answered unexpectedly"
        } catch {
            await redis.disconnect()
            return "\(error)"
        }
    }

    private func keyDirectoryProblem() async -> String? {
        let path = keyDirectory
        return await withCheckedContinuation { continuation in
            Self.fileQueue.async {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    continuation.resume(returning: "\(path) does not exist")
                    return
                }
                guard isDirectory.boolValue else {
                    continuation.resume(returning: "\(path) is not a directory")
                    return
                }
                guard access(path, R_OK | X_OK) == 0, (try? FileManager.default.contentsOfDirectory(atPath: path)) != nil else {
                    continuation.resume(returning: "\(path) is not readable by this process")
                    return
                }
                continuation.resume(returning: nil)
            }
        }
    }
}
