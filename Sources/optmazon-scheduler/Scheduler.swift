import ArgumentParser
import Foundation
import JobQueueRedis
import Logging
import OptMazonConfig
import Runtime
import Scheduling
import ServiceLifecycle

/// Schedules nightly runs, retention sweeps and wipes; one leader, the others standbys.
@main
struct SchedulerMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-scheduler",
                                                    abstract: "Enqueue nightly runs, retention sweeps and wipes (one leader at a time).")

    func run() async throws {
        let settings = try await WorkerRuntime.loadSettingsOrExit(extraKeys: SchedulerConfiguration.keys.map {
            ConfigKeys.Key(name: $0.name, defaultValue: $0.defaultValue, help: $0.help)
        })
        Logs.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: "optmazon-scheduler")
        let configuration: SchedulerConfiguration
        do {
            configuration = try SchedulerConfiguration(raw: settings.raw)
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        let queue = RedisJobQueue(endpoint: settings.redis, keys: settings.keys, deadLetterCap: settings.deadLetterCap, logger: logger)
        let storage = try Stores.storage(settings)
        let control = try await storage.openControlStore()
        let scheduler = Scheduler(queue: queue, directory: ControlStoreDirectory(control: control), configuration: configuration, logger: logger)
        let lease = RedisLeaderLease(client: queue.client, keys: settings.keys, ttl: configuration.leaseSeconds)
        let service = SchedulerService(scheduler: scheduler, lease: lease, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await control.close()
    }
}
