import ArgumentParser
import JobQueue
import Runtime

/// Delivers alerts from each seller's outbox.
@main
struct Alerter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-alerter", abstract: "Consume alert jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-alerter", kinds: JobKind.alerterKinds, options: options) { _, _, _ in
            LogAndAcknowledgeHandler()
        }
    }
}

