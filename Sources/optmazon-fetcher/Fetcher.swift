import AmazonClient
import ArgumentParser
import Fetching
import Foundation
import JobQueue
import Runtime

/// Pulls each seller's Amazon data into its encrypted store.
@main
struct Fetcher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-fetcher", abstract: "Consume fetch jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-fetcher", kinds: JobKind.fetcherKinds, options: options) { settings, queue, logger in
            let config = try AmazonClientConfig(environment: Stores.amazonEnvironment(settings))
            let client = FetchHandlers.makeAmazonClient(config: config, queue: queue, logger: logger)
            let router = try await FetchHandlers.makeRouter(storage: try Stores.storage(settings), queue: queue, client: client)
            let stats = ApiStatsPublisher(client: client, redis: queue.client, keys: queue.keys, logger: logger)
            return WorkerParts(handler: router, companions: [stats]) {
                do {
                    try await client.shutdown()
                } catch {
                    logger.warning("Amazon client did not shut down cleanly", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
