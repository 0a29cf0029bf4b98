import Analyzing
import ArgumentParser
import JobQueue
import Runtime

/// Turns a seller's stored data into recommendations and alert candidates.
@main
struct Analyzer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-analyzer", abstract: "Consume analyze jobs.")

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        try await WorkerRuntime.run(name: "optmazon-analyzer", kinds: JobKind.analyzerKinds, options: options) { settings, _, logger in
            try await AnalyzerJobs.makeHandler(storage: try Stores.storage(settings), logger: logger)
        }
    }
}
