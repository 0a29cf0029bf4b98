import ArgumentParser
import JobQueue
import Privacy
import Runtime

/// Enforces retention, wipes and exports seller data.
@main
struct JanitorMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-janitor", abstract: "Consume wipe, export and retention jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-janitor", kinds: JobKind.janitorKinds, options: options) { settings, _, _ in
            let storage = try Stores.storage(settings)
            let control = try await storage.openControlStore()
            return Janitor.router(storage: storage, control: control, retentionDays: settings.retentionDays)
        }
    }
}
