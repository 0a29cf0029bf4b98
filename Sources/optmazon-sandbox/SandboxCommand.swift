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
    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate (needs --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("tls-max"), help: "Highest TLS version served with --tls-cert: 1.2 or 1.3 (default 1.3).") var tlsMax = "1.3"

    func run() async throws {
        guard let day = Day(rawValue: today) else { throw ValidationError("--today must be YYYY-MM-DD") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
        var faultValue: SandboxFault?
        if let fault {
            guard let f = SandboxFault(rawValue: fault) else { throw ValidationError("--fault must be one of \(SandboxFault.allCases.map(\.rawValue))") }
            faultValue = f
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard ["1.2", "1.3"].contains(tlsMax) else { throw ValidationError("--tls-max must be 1.2 or 1.3") }
        let tls = tlsCert.map { SandboxTLS(certificatePath: $0, privateKeyPath: tlsKey!, maximumVersion: tlsMax == "1.2" ? .tlsv12 : .tlsv13) }
        let config = SandboxConfig(sellers: sellers, skus: skus, seed: seed, timeScale: timeScale, today: day, revoked: Set(revoke),
                                   fault: faultValue, clientID: clientID, clientSecret: clientSecret)
        var logger = Logger(label: "optmazon.sandbox")
        logger.logLevel = .warning
        let server = SandboxServer(config: config, logger: logger)
        let sellerIDs = server.world.sellers.map(\.sellerID)
        let app = try server.application(host: host, port: port, tls: tls) { url in
            FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
            FileHandle.standardError.write(Data("sellers: \(sellerIDs.joined(separator: " "))\n".utf8))
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
