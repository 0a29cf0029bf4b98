import ArgumentParser
import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import OptMazonConfig
import Runtime

/// Connects to the configured queue for one CLI invocation.
func openQueue() async throws -> RedisJobQueue {
    let settings = try await WorkerRuntime.loadSettingsOrExit()
    Logs.bootstrap(level: "error", format: settings.logFormat)
    return RedisJobQueue(endpoint: settings.redis, keys: settings.keys, deadLetterCap: settings.deadLetterCap,
                         logger: Logger(label: "optmazon"))
}

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Enqueue a job for a seller (re-runs, deletion requests).")

    @Argument(help: "Job kind: \(JobKind.all.map(\.rawValue).joined(separator: ", ")).")
    var kind: String

    @Option(help: "Seller id (selling_partner_id).")
    var seller: String

    @Option(help: "Run at this time instead of now: ISO 8601 (2026-12-01T03:00:00Z) or +SECONDS.")
    var at: String?

    @Option(name: .customLong("unique-key"), help: "Refuse a second job with this key while the first holds it.")
    var uniqueKey: String?

    @Option(name: .customLong("unique-for"), help: "Seconds a unique key is held (default 86400).")
    var uniqueFor: Double = 86_400

    @Option(name: .customLong("arg"), help: "Job argument KEY=VALUE (repeatable).")
    var arguments: [String] = []

    func validate() throws {
        guard JobKind.all.contains(JobKind(rawValue: kind)) else {
            throw ValidationError("unknown job kind '\(kind)'; known kinds: \(JobKind.all.map(\.rawValue).joined(separator: ", "))")
        }
        guard SellerID(rawValue: seller) != nil else {
            throw ValidationError("invalid --seller '\(seller)': 1-64 letters, digits, '-' or '_'")
        }
        if let at { _ = try parseTime(at) }
        for argument in arguments where !argument.contains("=") {
            throw ValidationError("--arg '\(argument)' must look like KEY=VALUE")
        }
        guard uniqueFor > 0 else { throw ValidationError("--unique-for must be positive") }
    }

    func run() async throws {
        let queue = try await openQueue()
        var args: [String: String] = [:]
        for argument in arguments {
            let parts = argument.split(separator: "=", maxSplits: 1)
            args[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let job = JobEnvelope(kind: JobKind(rawValue: kind), seller: SellerID(rawValue: seller)!, arguments: args)
        let when = try at.map(parseTime)
        switch try await queue.enqueue(job, at: when, uniqueKey: uniqueKey, uniqueFor: uniqueFor) {
        case let .enqueued(id):
            printLine(when.map { "enqueued \(kind) job \(id) for seller \(seller) at \($0.formatted(.iso8601))" }
                ?? "enqueued \(kind) job \(id) for seller \(seller)")
        case let .duplicate(key):
            printLine("not enqueued: a job with unique key '\(key)' is already queued")
        }
    }

    private func parseTime(_ text: String) throws -> Date {
        if text.hasPrefix("+"), let seconds = Double(text.dropFirst()), seconds >= 0 {
            return Date().addingTimeInterval(seconds)
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw ValidationError("--at '\(text)' is neither ISO 8601 (2026-12-01T03:00:00Z) nor +SECONDS")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show queue depths, workers and counters per job kind.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Report: Codable {
        var kinds: [KindStatus]
        var consumers: [ConsumerInfo]
    }

    func run() async throws {
        let queue = try await openQueue()
        let report = Report(kinds: try await queue.status(kinds: JobKind.all), consumers: try await queue.consumers())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            printLine(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        printLine("KIND             QUEUED  PENDING  DELAYED  DEAD  PROCESSED  RETRIED  FAILED")
        for k in report.kinds {
            let queued = max(0, k.streamLength - k.pending)
            printLine(k.kind.padding(toLength: 16, withPad: " ", startingAt: 0)
                + [queued, k.pending, k.delayed, k.deadLettered, k.processed, k.retried, k.failed]
                .enumerated().map { i, n in String(n).leftPad([7, 9, 9, 6, 11, 9, 8][i]) }.joined())
        }
        printLine("")
        if report.consumers.isEmpty {
            printLine("no workers have reported")
        } else {
            printLine("WORKER                                        KINDS                 IN-FLIGHT  LAST HEARTBEAT")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for c in report.consumers {
                let age = Double(now - c.lastHeartbeat) / 1000
                printLine(c.name.padding(toLength: 46, withPad: " ", startingAt: 0)
                    + c.kinds.joined(separator: ",").padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(c.inFlight).leftPad(9) + String(format: "  %.0fs ago", age))
            }
        }
        printLine("")
        do {
            let overdue = try await PrivacyCLI.overdueWipeLines()
            printLine(overdue.isEmpty ? "no overdue wipes" : overdue.joined(separator: "\n"))
        } catch {
            printLine("wipes: cannot read the seller registry (\(error))")
        }
    }
}

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "Manage dead-lettered jobs.",
        subcommands: [List.self, Retry.self, Drop.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead jobs with the error that killed them.")

        @Option(help: "Most entries to show.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let queue = try await openQueue()
            let jobs = try await queue.deadJobs(limit: limit)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                printLine(String(decoding: try encoder.encode(jobs), as: UTF8.self))
                return
            }
            if jobs.isEmpty { printLine("no dead jobs") }
            for job in jobs {
                let when = Date(timeIntervalSince1970: Double(job.failedAt) / 1000).formatted(.iso8601)
                printLine("\(job.deadID)  \(job.kind)  seller=\(job.seller.isEmpty ? "?" : job.seller)  job=\(job.jobID.isEmpty ? "?" : job.jobID)  attempt=\(job.attempt)  at=\(when)  reason: \(job.reason)")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead jobs back in their queue with a fresh attempt count.")

        @Argument(help: "Dead-letter ids (from `dead list`).") var ids: [String] = []
        @Flag(help: "Retry every dead job.") var all = false

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give dead-letter ids or --all (not both)") }
        }

        func run() async throws {
            let queue = try await openQueue()
            let targets = all ? try await queue.deadJobs(limit: Int.max).map(\.deadID) : ids
            let moved = try await queue.retryDead(ids: targets)
            printLine("retried \(moved) of \(targets.count) dead jobs")
            if moved < targets.count { throw ExitCode(1) }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead jobs for good.")

        @Argument(help: "Dead-letter ids (from `dead list`).") var ids: [String] = []
        @Flag(help: "Drop every dead job.") var all = false

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give dead-letter ids or --all (not both)") }
        }

        func run() async throws {
            let queue = try await openQueue()
            let targets = all ? try await queue.deadJobs(limit: Int.max).map(\.deadID) : ids
            let dropped = try await queue.dropDead(ids: targets)
            printLine("dropped \(dropped) of \(targets.count) dead jobs")
            if dropped < targets.count { throw ExitCode(1) }
        }
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}

struct WaitIdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-idle",
        abstract: "Wait until no job is queued, running, delayed or parked (scripts and demos).")

    @Option(help: "Give up after this many seconds (exit 1).") var timeout: Double = 600
    @Option(help: "How long the queues must stay idle to count as idle, seconds.") var settle: Double = 2

    func run() async throws {
        let queue = try await openQueue()
        let deadline = Date().addingTimeInterval(timeout)
        var idleSince: Date?
        while Date() < deadline {
            let queued = try await queue.status(kinds: JobKind.all).contains { $0.streamLength > 0 || $0.pending > 0 || $0.delayed > 0 }
            let parked = try await queue.nextDelayed(kinds: JobKind.all) != nil
            let busy = queued || parked
            if busy {
                idleSince = nil
            } else if let since = idleSince {
                if Date().timeIntervalSince(since) >= settle { return }
            } else {
                idleSince = Date()
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        printError("the pipeline did not go idle within \(Int(timeout)) s; see `optmazon status`")
        throw ExitCode(1)
    }
}
