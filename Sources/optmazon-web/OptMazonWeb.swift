import AmazonClient
import ArgumentParser
import Foundation
import JobQueueRedis
import Logging
import Redis
import Runtime
import SellerStore
import ServiceLifecycle
import Web

/// The onboarding and operations web process: SP-API and Ads consent flows, `/healthz`, `/metrics`.
@main
struct OptMazonWeb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optmazon-web",
        abstract: "Serve seller onboarding (Amazon consent flows), /healthz and /metrics.",
        discussion: "Needs OPTMAZON_WEB_STATE_SECRET (32+ random bytes) and OPTMAZON_LWA_CLIENT_SECRET in the environment.")

    @Option(help: "Address to bind (default: web.host).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (default: web.port).")
    var port: Int?

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        if let host, host.isEmpty { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        let settings = try await WorkerRuntime.loadSettingsOrExit(extraKeys: WebConfiguration.keys)
        Logs.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: "optmazon-web")
        let environment = ProcessInfo.processInfo.environment
        let web: WebConfiguration
        let signer: StateSigner
        let amazonConfig: AmazonClientConfig
        let storage: SellerStorage
        do {
            web = try WebConfiguration(settings: settings)
            signer = try WebConfiguration.stateSigner(environment: environment, lifetime: web.stateLifetime)
            amazonConfig = try WebConfiguration.amazonConfig(settings: settings, environment: environment)
            storage = try Stores.storage(settings)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let control: ControlStore
        do {
            control = try await storage.openControlStore()
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let amazon = AmazonClient(config: amazonConfig, logger: logger)
        let queue = RedisJobQueue(endpoint: settings.redis, keys: settings.keys, deadLetterCap: settings.deadLetterCap, logger: logger)
        let onboarding = OnboardingFlow(configuration: web, signer: signer, ledger: RedisStateLedger(client: queue.client, keys: settings.keys),
                                        exchanger: amazon, control: control, queue: queue, logger: logger)
        let health = HealthChecker(redis: RedisClient(endpoint: settings.redis, timeout: 2, label: "redis-health"),
                                   keyDirectory: storage.locations.keyDirectory)
        let metrics = MetricsExporter(shardQueues: MetricsExporter.shardQueues(endpoint: settings.redis, keys: settings.keys,
                                                                                deadLetterCap: settings.deadLetterCap, logger: logger),
                                      control: control)
        let app = WebApp(onboarding: onboarding, health: health, metrics: metrics, logger: logger)
            .application(host: host ?? web.host, port: port ?? web.port) { url in
                printLine("optmazon-web listening on \(url)")
            }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await amazon.shutdown()
            await control.close()
            printError("optmazon-web stopped: \(error)")
            throw ExitCode(1)
        }
        try? await amazon.shutdown()
        await control.close()
    }
}
