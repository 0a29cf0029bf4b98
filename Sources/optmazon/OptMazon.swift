import ArgumentParser
import Runtime

/// The operator's command line: enqueue jobs, inspect the queue, manage dead letters and sellers.
@main
struct OptMazon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optmazon",
        abstract: "Operate an OptMazon deployment.",
        subcommands: [
            EnqueueCommand.self, RunNowCommand.self, StatusCommand.self, DeadCommand.self, WaitIdleCommand.self,
            SellersCommand.self, KeysCommand.self, WipeCommand.self, ReceiptsCommand.self, ExportCommand.self,
            SchedulerCommand.self, ReportCommand.self,
        ])
}

