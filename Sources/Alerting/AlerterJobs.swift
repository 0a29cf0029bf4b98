import Foundation
import JobQueue
import Logging
import SellerStore

/// Builds the alerter executable's job handler.
public enum AlerterJobs {
    /// Runs `body` with an ``AlertHTTPClient`` and shuts the client down afterwards, also when `body` throws.
    public static func withHTTPClient<T: Sendable>(_ body: (AlertHTTPClient) async throws -> T) async throws -> T {
        let client = AlertHTTPClient()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The handler for `JobKind.alerterKinds`: opens the registry and a bounded cache of seller stores.
    ///
    /// Warns at start when `OPTMAZON_WEBHOOK_SIGNING_SECRET` is unset (webhook deliveries would then fail permanently).
    public static func makeHandler(storage: SellerStorage, http: AlertHTTPClient,
                                   configuration: AlertConfiguration = .fromEnvironment(),
                                   storeCacheCapacity: Int = 32, logger: Logger) async throws -> AlertJobHandler {
        if configuration.signingSecret == nil {
            logger.warning("OPTMAZON_WEBHOOK_SIGNING_SECRET is not set: sellers with a webhook URL cannot get alerts (Slack still works)")
        }
        return AlertJobHandler(control: try await storage.openControlStore(),
                               stores: SellerStoreCache(storage: storage, capacity: storeCacheCapacity),
                               http: http, configuration: configuration)
    }
}
