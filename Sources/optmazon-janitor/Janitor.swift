import ArgumentParser
import JobQueue
import Runtime

/// Enforces retention, wipes and exports seller data.
@main
struct Janitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-janitor", abstract: "Consume wipe, export and retention jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-janitor", kinds: JobKind.janitorKinds, options: options) { _, _, _ in
            LogAndAcknowledgeHandler()
        }
    }
}

