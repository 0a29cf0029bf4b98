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
        try await run(name: name, kinds: kinds, options: options) { settings, queue, logger in
            WorkerParts(handler: try await makeHandler(settings, queue, logger))
        }
    }

    /// Runs a worker whose stage also needs companion services (for example a stats publisher).
    ///
    /// The companions start before the worker and stop after it, so whatever they flush on shutdown
    /// includes the worker's last job.
    public static func run(name: String, kinds: [JobKind], options: WorkerOptions,
                           makeWorker: @Sendable (Settings, RedisJobQueue, Logger) async throws -> WorkerParts) async throws {
        let settings = try await loadSettingsOrExit()
        Logs.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: name)
        let queue = RedisJobQueue(endpoint: settings.redis, keys: settings.keys, deadLetterCap: settings.deadLetterCap, logger: logger)
        let parts = try await makeWorker(settings, queue, logger)
        let handler = parts.handler
        let configuration = WorkerConfiguration(
            kinds: kinds, concurrency: options.concurrency ?? settings.worker.concurrency,
            batchSize: settings.worker.batchSize, blockSeconds: settings.worker.blockSeconds,
            visibilityTimeout: settings.worker.visibilityTimeout, shutdownGrace: settings.worker.shutdownGrace,
            burst: options.burst, retry: settings.worker.retry)
        let worker = JobWorker(queue: queue, handler: handler, configuration: configuration, logger: logger)
        // A ServiceGroup shuts its services down in reverse order: the worker first, then its companions.
        let group = ServiceGroup(configuration: .init(
            services: parts.companions.map { .init(service: $0) }
                + [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await release(parts)
            throw error
        }
        await release(parts)
    }

    /// Closes the handler's stores, then runs the stage's stop hook, before `main` returns and the process exits.
    private static func release(_ parts: WorkerParts) async {
        await parts.handler.close()
        await parts.onStop()
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

/// What a stage hands ``WorkerRuntime`` to run: its job handler and the services that live beside the worker.
public struct WorkerParts: Sendable {
    /// Handles the stage's job kinds.
    public var handler: any JobHandler
    /// Long-running helpers (stats publishers, caches) started before and stopped after the worker.
    public var companions: [any Service]
    /// Runs once every service has stopped and the handler was closed: releases what else the stage held
    /// (HTTP connection pools).
    public var onStop: @Sendable () async -> Void

    public init(handler: any JobHandler, companions: [any Service] = [], onStop: @escaping @Sendable () async -> Void = {}) {
        self.handler = handler
        self.companions = companions
        self.onStop = onStop
    }
}
