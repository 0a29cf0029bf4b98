import Domain
import Foundation
import JobQueue
import Logging
import SellerStore

/// Settings of the alert handler.
public struct AlertConfiguration: Sendable {
    /// Signs webhooks; nil when `OPTMAZON_WEBHOOK_SIGNING_SECRET` is unset (sellers with a webhook URL then fail permanently).
    public var signingSecret: WebhookSigningSecret?
    /// An alert equal to one delivered on its day or the `dedupeWindowDays` days before (same kind, ASIN, SKU and
    /// diff) is not sent again: it is marked `suppressed`, naming the delivered one.
    public var dedupeWindowDays: Int
    /// Most alerts in one digest; a larger backlog goes out as several digests in the same job.
    public var maxAlertsPerDigest: Int
    /// Most alerts listed in a Slack message (Slack allows 50 blocks); the rest are counted.
    public var slackMaxAlerts: Int

    public init(signingSecret: WebhookSigningSecret? = nil, dedupeWindowDays: Int = 1, maxAlertsPerDigest: Int = 500,
                slackMaxAlerts: Int = 40) {
        self.signingSecret = signingSecret
        self.dedupeWindowDays = max(0, dedupeWindowDays)
        self.maxAlertsPerDigest = max(1, maxAlertsPerDigest)
        self.slackMaxAlerts = max(1, slackMaxAlerts)
    }

    /// Reads `OPTMAZON_WEBHOOK_SIGNING_SECRET` (the HMAC key shared with every webhook receiver).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AlertConfiguration {
        AlertConfiguration(signingSecret: environment["OPTMAZON_WEBHOOK_SIGNING_SECRET"].flatMap(WebhookSigningSecret.init))
    }
}

/// Consumes `alert` jobs: delivers the seller's pending alerts from its outbox as one digest per channel.
///
/// Channels come from the registry: a signed JSON webhook (`webhookURL`, headers `X-OptMazon-Timestamp`,
/// `X-OptMazon-Signature: v1=<hex HMAC-SHA256 of "timestamp.body">`, `Idempotency-Key: <digest id>`, each alert
/// carrying its own id as `idempotency_key`) and a Slack incoming webhook (`slackWebhookURL`). Alerts are marked
/// `delivered` only when every configured channel answered 2xx; otherwise they stay `pending` (attempt count and
/// last error recorded) and the job fails, transiently for unreachable endpoints, 408, 425, 429 and 5xx (the
/// worker retries with backoff, then dead-letters it with the reason), permanently for other 4xx and bad URLs.
/// Every attempt is a line of the delivery log in the seller's store (``AlertDelivery``: digest, channel, endpoint
/// host, time, alert ids, status or error), also logged as `alert delivered` / `alert delivery failed`; a retried
/// digest skips the channels that already answered 2xx, so a receiver on a healthy channel gets it once.
public struct AlertJobHandler: JobHandler {
    let control: ControlStore
    let stores: SellerStoreCache
    let http: AlertHTTPClient
    let configuration: AlertConfiguration
    let now: @Sendable () -> Date

    /// - Parameter now: the clock the signature timestamp is taken from, injectable for tests.
    public init(control: ControlStore, stores: SellerStoreCache, http: AlertHTTPClient,
                configuration: AlertConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.control = control
        self.stores = stores
        self.http = http
        self.configuration = configuration
        self.now = now
    }

    /// What one job did, for logs and tests.
    public struct Summary: Sendable, Equatable {
        public var delivered: Int = 0
        public var suppressed: Int = 0
        public var digests: Int = 0
        /// True when nothing was attempted: seller revoked, or no channel configured.
        public var skipped = false
    }

    /// Closes the registry and every cached seller store; the worker process calls it once the worker stopped.
    public func close() async {
        await stores.closeAll()
        await control.close()
    }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        do throws(AlertError) {
            try await run(job, context: context)
        } catch {
            throw error.jobError
        }
    }

    @discardableResult
    func run(_ job: JobEnvelope, context: JobContext) async throws(AlertError) -> Summary {
        let seller = job.seller
        let registered: RegisteredSeller
        do {
            registered = try await control.seller(seller)
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            throw AlertError(seller: seller, reason: .unknownSeller)
        } catch {
            throw AlertError(seller: seller, reason: .store("\(error)"))
        }
        guard registered.status == .active else {
            context.logger.notice("seller revoked; no alerts delivered")
            return Summary(skipped: true)
        }
        let channels = try channels(of: registered)
        guard !channels.isEmpty else {
            context.logger.notice("no alert channel configured (sellers set --webhook-url / --slack-webhook-url); alerts stay pending")
            return Summary(skipped: true)
        }
        do {
            return try await stores.withStore(seller) { store in
                var tally = Summary()
                while true {
                    let batch = try await store.undeliveredAlerts(limit: configuration.maxAlertsPerDigest)
                    if batch.isEmpty { break }
                    let (send, duplicates) = try await deduplicate(batch, in: store)
                    for (alert, original) in duplicates {
                        try await store.markAlert(id: alert.id, state: .suppressed, lastError: "duplicate of alert \(original) delivered within the window")
                    }
                    tally.suppressed += duplicates.count
                    if !duplicates.isEmpty {
                        context.logger.info("alerts suppressed as duplicates", metadata: ["alert_ids": "\(duplicates.map(\.0.id).joined(separator: ","))"])
                    }
                    if send.isEmpty { continue }
                    let digest = AlertDigest(seller: seller, alerts: send)
                    // A retry of the same alerts is the same digest: channels that already took it are skipped.
                    let done = Set(try await store.deliveries(ofDigest: digest.id).filter(\.delivered).map(\.channel))
                    let (failure, log) = await deliver(digest, to: channels.filter { !done.contains($0.channel) }, logger: context.logger)
                    try await store.save(log)
                    if let failure {
                        for alert in send { try await store.markAlert(id: alert.id, state: .pending, lastError: failure.description) }
                        throw failure
                    }
                    for alert in send { try await store.markAlert(id: alert.id, state: .delivered) }
                    tally.delivered += send.count
                    tally.digests += 1
                }
                return tally
            }
        } catch let error as AlertError {
            throw error
        } catch {
            throw AlertError(seller: seller, reason: .store("\(error)"))
        }
    }

    /// The configured channels, refusing unusable URLs and a webhook without a signing secret.
    func channels(of registered: RegisteredSeller) throws(AlertError) -> [AlertEndpoint] {
        func endpoint(_ raw: String, channel: String) throws(AlertError) -> AlertEndpoint {
            do {
                return try AlertEndpoint(raw, channel: channel)
            } catch {
                throw AlertError(seller: registered.sellerID, reason: .badEndpoint(channel: error.channel, reason: error.reason))
            }
        }
        var out: [AlertEndpoint] = []
        if let raw = registered.settings.webhookURL, !raw.isEmpty {
            guard configuration.signingSecret != nil else { throw AlertError(seller: registered.sellerID, reason: .missingSigningSecret) }
            out.append(try endpoint(raw, channel: "webhook"))
        }
        if let raw = registered.settings.slackWebhookURL, !raw.isEmpty {
            out.append(try endpoint(raw, channel: "slack"))
        }
        return out
    }

    /// Splits `batch` into alerts to send and duplicates (with the id of the alert they repeat).
    ///
    /// A duplicate has the same kind, ASIN, SKU and diff as an alert delivered on its day or within
    /// `dedupeWindowDays` before, or as a newer alert of the same batch.
    func deduplicate(_ batch: [Alert], in store: SellerStore) async throws -> (send: [Alert], duplicates: [(Alert, String)]) {
        func fingerprint(_ a: Alert) -> String { [a.kind, a.asin, a.sku, a.diff].joined(separator: "\u{1F}") }
        let days = batch.map(\.day)
        let delivered = try await store.rows(Alert.self, from: days.min()!.adding(days: -configuration.dedupeWindowDays), through: days.max()!)
            .filter { $0.state == .delivered }
        var deliveredByPrint: [String: [Alert]] = [:]
        for a in delivered { deliveredByPrint[fingerprint(a), default: []].append(a) }
        var newestInBatch: [String: Alert] = [:]
        for a in batch {
            let f = fingerprint(a)
            if let seen = newestInBatch[f], (seen.day, seen.id) >= (a.day, a.id) { continue }
            newestInBatch[f] = a
        }
        var send: [Alert] = []
        var duplicates: [(Alert, String)] = []
        for a in batch {
            let f = fingerprint(a)
            if let earlier = deliveredByPrint[f]?.first(where: { $0.id != a.id && $0.day <= a.day
                && $0.day >= a.day.adding(days: -configuration.dedupeWindowDays) }) {
                duplicates.append((a, earlier.id))
            } else if let newest = newestInBatch[f], newest.id != a.id {
                duplicates.append((a, newest.id))
            } else {
                send.append(a)
            }
        }
        return (send, duplicates)
    }

    /// Sends `digest` to every channel; returns the first failure (nil when all answered 2xx) and the
    /// delivery-log lines of the attempts.
    func deliver(_ digest: AlertDigest, to channels: [AlertEndpoint], logger: Logger) async -> (failure: AlertError?, log: [AlertDelivery]) {
        var failure: AlertError?
        var log: [AlertDelivery] = []
        for endpoint in channels {
            let body: Data
            var headers = [("Idempotency-Key", digest.id)]
            if endpoint.channel == "webhook", let secret = configuration.signingSecret {
                body = digest.webhookBody()
                let timestamp = Int64(now().timeIntervalSince1970)
                headers.append((WebhookSigner.timestampHeader, String(timestamp)))
                headers.append((WebhookSigner.signatureHeader, WebhookSigner(secret: secret).signature(timestamp: timestamp, body: body)))
            } else {
                body = digest.slackBody(maxAlerts: configuration.slackMaxAlerts)
            }
            let started = ContinuousClock.now
            let attemptedAt = now()
            let answer = await http.post(endpoint, body: body, headers: headers)
            func entry(delivered: Bool, status: Int?, error: String) -> AlertDelivery {
                AlertDelivery(digestID: digest.id, channel: endpoint.channel, endpoint: endpoint.label, attemptedAt: attemptedAt,
                              alertIDs: digest.alerts.map(\.id), delivered: delivered, status: status, error: error)
            }
            var metadata: Logger.Metadata = [
                "channel": "\(endpoint.channel)", "endpoint": "\(endpoint.label)", "digest_id": "\(digest.id)",
                "alerts": "\(digest.alerts.count)", "alert_ids": "\(digest.alerts.map(\.id).joined(separator: ","))",
                "elapsed_ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
            ]
            switch answer {
            case let .status(code) where (200..<300).contains(code):
                metadata["status"] = "\(code)"
                logger.info("alert delivered", metadata: metadata)
                log.append(entry(delivered: true, status: code, error: ""))
            case let .status(code):
                metadata["status"] = "\(code)"
                logger.warning("alert delivery failed", metadata: metadata)
                log.append(entry(delivered: false, status: code, error: "HTTP \(code)"))
                failure = failure ?? AlertError(seller: digest.seller, reason: .httpStatus(channel: endpoint.channel, endpoint: endpoint.label, status: code),
                                                pendingAlerts: digest.alerts.count)
            case let .failed(detail):
                metadata["error"] = "\(detail)"
                logger.warning("alert delivery failed", metadata: metadata)
                log.append(entry(delivered: false, status: nil, error: String(detail.prefix(300))))
                failure = failure ?? AlertError(seller: digest.seller, reason: .unreachable(channel: endpoint.channel, endpoint: endpoint.label, detail: detail),
                                                pendingAlerts: digest.alerts.count)
            }
        }
        return (failure, log)
    }
}
