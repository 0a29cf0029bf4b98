import AmazonClient
import Domain
import Foundation
import Logging
import NIOSSL
import PipelineTesting
import Sandbox
import Testing

/// "All data transfers use TLS 1.3": the client refuses any server that cannot speak it, and never
/// sends seller data over plain HTTP beyond this machine.
///
/// The server is the real sandbox serving HTTPS on 127.0.0.1 with a certificate made for the test (openssl),
/// capped at one TLS version. Each refusal has a positive control (the same call succeeding once the versions
/// meet), so a refusal cannot be a certificate or connection problem in disguise.
@Suite("TLS policy of the Amazon client", .serialized)
struct TLSPolicyTests {
    @Test("a sandbox capped at TLS 1.2 is refused before anything is sent, with one line naming the TLS failure")
    func refusesTLS12() async throws {
        try await withTLSSandbox(maximum: .tlsv12) { sandbox, environment, seller in
            let client = try tlsClient(environment)
            await #expect {
                _ = try await client.fetchMarketplaceParticipations(seller: seller)
            } throws: { error in
                guard case let .insecure(operation, reason) = error as? AmazonClientError else { return false }
                return !operation.isEmpty && reason.contains("TLS handshake with 127.0.0.1 failed (minimum TLS 1.3)")
                    && !"\(error)".contains("\n")
            }
            try await client.shutdown()
            let served = await sandbox.server.counts()
            #expect(served.requests.isEmpty && served.tokenGrants == 0, "no request reached the server: \(served)")
        }
    }

    @Test("the same client fetches from a sandbox that speaks TLS 1.3")
    func acceptsTLS13() async throws {
        try await withTLSSandbox(maximum: .tlsv13) { sandbox, environment, seller in
            let client = try tlsClient(environment)
            let markets = try await client.fetchMarketplaceParticipations(seller: seller)
            try await client.shutdown()
            #expect(!markets.isEmpty)
        }
    }

    @Test("TLS 1.2 is accepted only when the operator sets tls.minimum to 1.2")
    func minimumIsConfigurable() async throws {
        try await withTLSSandbox(maximum: .tlsv12) { sandbox, environment, seller in
            let client = try tlsClient(environment.merging(["OPTMAZON_TLS_MINIMUM": "1.2"]) { $1 })
            let markets = try await client.fetchMarketplaceParticipations(seller: seller)
            try await client.shutdown()
            #expect(!markets.isEmpty)
        }
    }

    @Test("plain http is configurable for loopback only, and a bad TLS minimum is one clear line")
    func plainHTTPOnlyOnLoopback() throws {
        let base = ["OPTMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.test", "OPTMAZON_LWA_CLIENT_SECRET": "s"]
        for url in ["http://127.0.0.1:8700", "http://localhost:8700", "http://[::1]:8700", "https://sellingpartnerapi-na.amazon.com"] {
            #expect(throws: Never.self, "\(url)") { try AmazonClientConfig(environment: base.merging(["OPTMAZON_SPAPI_URL": url]) { $1 }) }
        }
        for url in ["http://sellingpartnerapi-na.amazon.com", "http://10.0.0.5:8700", "http://127.example.com"] {
            #expect(throws: AmazonClientError.configuration("OPTMAZON_SPAPI_URL must be https unless it points at this machine (127.0.0.1, ::1, localhost)"), "\(url)") {
                try AmazonClientConfig(environment: base.merging(["OPTMAZON_SPAPI_URL": url]) { $1 })
            }
        }
        #expect(throws: AmazonClientError.configuration("OPTMAZON_TLS_MINIMUM must be 1.2 or 1.3, got '1.1'")) {
            try AmazonClientConfig(environment: base.merging(["OPTMAZON_TLS_MINIMUM": "1.1"]) { $1 })
        }
        #expect(try AmazonClientConfig(environment: base).minimumTLSVersion.values.allSatisfy { $0 == .tlsv13 }, "TLS 1.3 by default")
    }
}

/// A client built from `environment` the way the fetcher builds it, trusting the test certificate.
func tlsClient(_ environment: [String: String]) throws -> AmazonClient {
    var config = try AmazonClientConfig(environment: environment)
    config.additionalTrustRoots = [environment["TEST_CA_FILE"]!]
    // AsyncHTTPClient retries a failed connection establishment until the request's deadline.
    config.connectTimeout = .seconds(2)
    config.readTimeout = .seconds(5)
    config.retry.maxServerErrorAttempts = 2
    config.retry.baseDelay = 0.01
    return AmazonClient(config: config)
}

/// Runs `body` with the sandbox serving HTTPS up to `maximum` on a free loopback port, the client settings
/// pointing at it (`TEST_CA_FILE` names the certificate to trust) and its first seller's authorization.
func withTLSSandbox<R>(maximum: TLSVersion,
                       _ body: (RunningSandbox, [String: String], SellerAuthorization) async throws -> R) async throws -> R {
    let directory = try TemporaryDirectory.make(prefix: "tls")
    defer { try? FileManager.default.removeItem(at: directory) }
    let certificate = directory.appendingPathComponent("cert.pem").path
    let key = directory.appendingPathComponent("key.pem").path
    let made = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                            "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
    try #require(made == 0, "openssl could not make a test certificate")
    var quiet = Logger(label: "sandbox")
    quiet.logLevel = .critical
    let sandbox = try await RunningSandbox.start(SandboxConfig(sellers: 1, skus: 2, seed: 5, timeScale: 100),
                                                 tls: SandboxTLS(certificatePath: certificate, privateKeyPath: key, maximumVersion: maximum),
                                                 logger: quiet)
    let environment = ["OPTMAZON_SPAPI_URL": sandbox.url, "OPTMAZON_ADS_URL": sandbox.url, "OPTMAZON_LWA_URL": sandbox.url + "/auth/o2/token",
                       "OPTMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.test", "OPTMAZON_LWA_CLIENT_SECRET": "test-secret",
                       "TEST_CA_FILE": certificate]
    let s = sandbox.server.world.sellers[0]
    let seller = SellerAuthorization(sellerID: SellerID(rawValue: s.sellerID)!, spapiRefreshToken: s.spapiRefreshToken)
    do {
        let result = try await body(sandbox, environment, seller)
        await sandbox.stop()
        return result
    } catch {
        await sandbox.stop()
        throw error
    }
}

/// Runs a tool to completion, output discarded; returns its exit status.
private func run(_ path: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
