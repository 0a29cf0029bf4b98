import AmazonClient
import Domain
import Foundation
import Logging
import PipelineTesting
import Sandbox
import Synchronization

/// A sandbox on 127.0.0.1:0 plus a client pointed at it; both are torn down after `body`.
func withSandbox<R>(_ config: SandboxConfig = SandboxConfig(sellers: 2, skus: 24, seed: 7, timeScale: 200, reportSeconds: 20),
                    clientConfig: (inout AmazonClientConfig) -> Void = { _ in }, capture: CapturedLogs? = nil,
                    _ body: (RunningSandbox, AmazonClient, [SellerAuthorization]) async throws -> R) async throws -> R {
    let sandbox = try await RunningSandbox.start(config)
    let base = URL(string: sandbox.url)!
    var cc = AmazonClientConfig(endpoints: AmazonEndpoints(spapi: base, lwaToken: base.appendingPathComponent("auth/o2/token"), ads: base),
                                lwaClientID: "amzn1.application-oa2-client.test", lwaClientSecret: "test-secret",
                                connectTimeout: .seconds(5), readTimeout: .seconds(20),
                                retry: RetryPolicy(maxThrottleAttempts: 8, maxServerErrorAttempts: 4, baseDelay: 0.02, maxDelay: 0.2),
                                reportPollInitialDelay: 0.02, reportPollMaxDelay: 0.1, reportTimeout: 60)
    clientConfig(&cc)
    let logger = capture.map { c in Logger(label: "test", factory: { c.handler(label: $0) }) } ?? Logger(label: "test")
    let client = AmazonClient(config: cc, rateLimiter: TokenBucketRateLimiter(timeScale: config.timeScale), logger: logger)
    let sellers = sandbox.server.world.sellers.map {
        SellerAuthorization(sellerID: SellerID(rawValue: $0.sellerID)!, spapiRefreshToken: $0.spapiRefreshToken, adsRefreshToken: $0.adsRefreshToken)
    }
    do {
        let result = try await body(sandbox, client, sellers)
        try await client.shutdown()
        await sandbox.stop()
        return result
    } catch {
        try? await client.shutdown()
        await sandbox.stop()
        throw error
    }
}

let usMarketplace = "ATVPDKIKX0DER"
let today = Day(rawValue: "2025-06-18")!

/// `../shared/spapi` relative to the package root, or the absolute workplace path.
func spapiReferenceDirectory() -> URL? {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<6 {
        dir = dir.deletingLastPathComponent()
        let candidate = dir.appendingPathComponent("shared/spapi")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("models").path) { return candidate }
        let sibling = dir.appendingPathComponent("../shared/spapi").standardized
        if FileManager.default.fileExists(atPath: sibling.appendingPathComponent("models").path) { return sibling }
    }
    let fixed = URL(fileURLWithPath: "/work/shared/spapi")
    return FileManager.default.fileExists(atPath: fixed.path) ? fixed : nil
}
