import ArgumentParser
import Domain
import Foundation
import Hummingbird
import Logging
import Sandbox

/// `optmazon-sandbox`: a local Amazon (LWA, SP-API, Ads API) for tests and the demo.
@main
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optmazon-sandbox",
                                                    abstract: "Serve LWA, SP-API and Ads API shapes for deterministic synthetic sellers.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free port).") var port = 0
    @Option(help: "Number of synthetic sellers.") var sellers = 2
    @Option(help: "SKUs per seller.") var skus = 20
    @Option(help: "PRNG seed.") var seed: UInt64 = 1
    @Option(name: .customLong("time-scale"), help: "Run the sandbox clock this many times faster (rate limits, report processing).")
    var timeScale: Double = 1
    @Option(help: "The sandbox's today, YYYY-MM-DD.") var today = "2025-06-18"
    @Option(help: "Seller id whose refresh tokens answer invalid_grant (repeatable).") var revoke: [String] = []
    @Option(help: "Fault for every request: \(SandboxFault.allCases.map(\.rawValue).joined(separator: "|")).") var fault: String?
    @Option(name: .customLong("client-id"), help: "Only accept this LWA client id (default: any).") var clientID: String?
    @Option(name: .customLong("client-secret"), help: "Only accept this LWA client secret.") var clientSecret: String?

    func run() async throws {
        guard let day = Day(rawValue: today) else { throw ValidationError("--today must be YYYY-MM-DD") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
        var faultValue: SandboxFault?
        if let fault {
            guard let f = SandboxFault(rawValue: fault) else { throw ValidationError("--fault must be one of \(SandboxFault.allCases.map(\.rawValue))") }
            faultValue = f
        }
        let config = SandboxConfig(sellers: sellers, skus: skus, seed: seed, timeScale: timeScale, today: day, revoked: Set(revoke),
                                   fault: faultValue, clientID: clientID, clientSecret: clientSecret)
        var logger = Logger(label: "optmazon.sandbox")
        logger.logLevel = .warning
        let server = SandboxServer(config: config, logger: logger)
        let sellerIDs = server.world.sellers.map(\.sellerID)
        let app = server.application(host: host, port: port) { url in
            FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
            FileHandle.standardError.write(Data("sellers: \(sellerIDs.joined(separator: " "))\n".utf8))
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
