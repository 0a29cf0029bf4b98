import Alerting
import ArgumentParser
import JobQueue
import Runtime

/// Delivers alerts from each seller's outbox as signed webhook and Slack digests.
@main
struct Alerter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-alerter", abstract: "Consume alert jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await AlerterJobs.withHTTPClient { http in
            try await WorkerRuntime.run(name: "optmazon-alerter", kinds: JobKind.alerterKinds, options: options) { settings, _, logger in
                try await AlerterJobs.makeHandler(storage: try Stores.storage(settings), http: http, logger: logger)
            }
        }
    }
}
