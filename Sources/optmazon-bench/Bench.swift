import ArgumentParser
import Foundation
import Runtime

/// Prints benchmark figures, one per line (`scripts/bench` builds in release mode and runs this).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optmazon-bench", abstract: "Measure OptMazon's throughput and memory.",
        subcommands: [Queue.self, Store.self, Fetch.self, Analyze.self])

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "No-op jobs through the Redis queue with 1 and 2 worker processes.")

        @Option(help: "Redis URL of a dedicated (throwaway) redis-server.") var redisURL: String
        @Option(help: "Jobs per measurement.") var jobs = 100_000

        func run() async throws {
            let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for line in try await QueueBench.run(redisURL: redisURL, jobs: jobs, binDirectory: bin) { printLine(line) }
        }
    }

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Insert and read throughput: encrypted store vs plain SQLite.")

        @Option(help: "Rows per round.") var rows = 200_000
        @Option(help: "Rounds (the median is printed).") var rounds = 5

        func run() async throws {
            for line in try await StoreBench.run(rows: rows, rounds: rounds) { printLine(line) }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch one large seller from the sandbox under Amazon's published rate limits.")

        @Option(help: "SKUs of the seller.") var skus = 1000
        @Option(name: .customLong("time-scale"), help: "How much faster than real time the sandbox's clock runs.") var timeScale: Double = 20

        func validate() throws {
            guard skus > 0 else { throw ValidationError("--skus must be positive") }
            guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
        }

        func run() async throws {
            for line in try await FetchBench.run(skus: skus, timeScale: timeScale) { printLine(line) }
        }
    }

    struct Analyze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Analyze one seller: 2,000 ASINs, 90 days, 20,000 SQP rows.")

        func run() async throws {
            for line in try await AnalyzeBench.run() { printLine(line) }
        }
    }
}
