import ArgumentParser
import Domain
import Foundation
import JobQueue
import Runtime
import Scheduling
import SellerStore

/// `optmazon run-now [--seller ID]`: enqueues a nightly run at once (operators re-running a seller).
struct RunNowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-now",
        abstract: "Enqueue a seller's nightly run now (every active seller without --seller).",
        discussion: "Independent of the nightly schedule: tonight's run still happens. A second run-now for a seller within a minute is refused as a duplicate.")

    @Option(help: "Seller id; omit to run every active seller.")
    var seller: String?

    func validate() throws {
        if let seller { _ = try SellersCommand.parseSellerID(seller) }
    }

    func run() async throws {
        let only = try seller.map(SellersCommand.parseSellerID)
        let targets = try await SellersCommand.withControlStore { control -> [RegisteredSeller] in
            if let only {
                let entry = try await control.seller(only)
                guard entry.status == .active else { throw InvalidValue("seller \(only) is \(entry.status.rawValue); nothing is fetched for it") }
                return [entry]
            }
            return try await control.sellers().filter { $0.status == .active }
        }
        guard !targets.isEmpty else {
            printLine("no active sellers")
            return
        }
        let plan = NightlyPlan(configuration: SchedulerConfiguration())
        let now = Date()
        let requests = targets.map { entry in
            let scheduled = ScheduledSeller(id: entry.sellerID, marketplaceIDs: entry.marketplaceIDs)
            let day = Day(now, timeZone: plan.timeZone(for: scheduled))
            return EnqueueRequest(JobEnvelope(kind: .fetch, seller: entry.sellerID, arguments: ["day": day.rawValue, "trigger": "run-now"]),
                                  uniqueKey: "run-now:\(entry.sellerID.rawValue)", uniqueFor: 60)
        }
        let queue = try await openQueue()
        var enqueued = 0
        for (request, result) in zip(requests, try await queue.enqueue(batch: requests)) {
            switch result {
            case let .enqueued(id):
                enqueued += 1
                if targets.count == 1 { printLine("enqueued fetch job \(id) for seller \(request.job.seller)") }
            case .duplicate:
                printLine("seller \(request.job.seller): a run-now was enqueued less than a minute ago; not enqueued again")
            }
        }
        if targets.count > 1 { printLine("enqueued \(enqueued) fetch job(s) for \(targets.count) active seller(s)") }
    }
}

/// `optmazon scheduler status`: which scheduler instance leads.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Inspect the scheduler.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the instance holding the scheduler lease.")

        func run() async throws {
            let queue = try await openQueue()
            let lease = RedisLeaderLease(client: queue.client, keys: queue.keys, ttl: 1)
            if let holder = try await lease.currentHolder() {
                printLine("leading scheduler: \(holder)")
            } else {
                printLine("no scheduler holds the lease: nightly runs are not being scheduled")
                throw ExitCode(1)
            }
        }
    }
}
