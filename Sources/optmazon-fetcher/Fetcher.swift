import ArgumentParser
import JobQueue
import Runtime

/// Pulls each seller's Amazon data into its encrypted store.
@main
struct Fetcher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-fetcher", abstract: "Consume fetch jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-fetcher", kinds: JobKind.fetcherKinds, options: options) { _, _, _ in
            LogAndAcknowledgeHandler()
        }
    }
}

