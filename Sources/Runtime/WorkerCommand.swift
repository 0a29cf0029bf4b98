import ArgumentParser
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import OptMazonConfig
import ServiceLifecycle

/// Flags every worker executable takes.
public struct WorkerOptions: ParsableArguments {
    @Flag(help: "Process every job that is due, then exit 0 (cron-style runs and tests).")
    public var burst = false

    @Option(help: "Jobs run at the same time in this process (default: worker.concurrency).")
    public var concurrency: Int?

    public init() {}

    public func validate() throws {
        if let concurrency, !(1...1024).contains(concurrency) {
            throw ValidationError("--concurrency must be from 1 to 1024, got \(concurrency)")
        }
    }
}

/// Wires one worker process: settings, logging, the Redis queue and a ``JobWorker`` in a `ServiceGroup`.
public enum WorkerRuntime {
    /// Runs until SIGTERM/SIGINT (graceful, exit 0) or, with `--burst`, until nothing is due.
    /// - Parameter makeHandler: builds the job handler from the loaded settings (stages open stores, clients…).
    public static func run(name: String, kinds: [JobKind], options: WorkerOptions,
                           makeHandler: @Sendable (Settings, RedisJobQueue, Logger) async throws -> any JobHandler) async throws {
        let settings = try await loadSettingsOrExit()
        Logs.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: name)
        let queue = RedisJobQueue(endpoint: settings.redis, keys: settings.keys, deadLetterCap: settings.deadLetterCap, logger: logger)
        let handler = try await makeHandler(settings, queue, logger)
        let configuration = WorkerConfiguration(
            kinds: kinds, concurrency: options.concurrency ?? settings.worker.concurrency,
            batchSize: settings.worker.batchSize, blockSeconds: settings.worker.blockSeconds,
            visibilityTimeout: settings.worker.visibilityTimeout, shutdownGrace: settings.worker.shutdownGrace,
            burst: options.burst, retry: settings.worker.retry)
        let worker = JobWorker(queue: queue, handler: handler, configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Loads settings, or prints the one-line reason and exits 2.
    public static func loadSettingsOrExit(extraKeys: [ConfigKeys.Key] = []) async throws -> Settings {
        do {
            return try await Settings.load(extraKeys: extraKeys)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}
