@testable import Alerting
import Crypto
import Domain
import Foundation
import JobQueue
import Logging
import SellerStore
import Testing

@Suite("alert jobs against a webhook receiver on 127.0.0.1")
struct AlertJobTests {
    static let secret = "test-signing-secret-not-a-real-one"
    let job = JobEnvelope(kind: .alert, seller: seller, arguments: ["day": today.rawValue])

    /// Runs `body` with a handler whose seller has the given channels (paths on the receiver) and `alerts` pending.
    func withHandler(webhookPath: String? = "/ok/hook", slackPath: String? = nil, alerts: [Alert], secret: String? = AlertJobTests.secret,
                     _ body: @escaping @Sendable (AlertJobHandler, SellerStore, Inbox, ControlStore) async throws -> Void) async throws {
        let stores = try TempStores()
        defer { stores.cleanup() }
        let inbox = Inbox()
        try await Receiver.run(inbox) { base in
            let control = try await stores.register(seller, webhook: webhookPath.map { base + $0 }, slack: slackPath.map { base + $0 })
            let store = try await stores.storage.openSeller(seller)
            try await store.save(alerts)
            let http = AlertHTTPClient(requestTimeout: .seconds(10))
            do {
                let handler = AlertJobHandler(control: control, stores: SellerStoreCache(storage: stores.storage), http: http,
                                              configuration: AlertConfiguration(signingSecret: secret.flatMap(WebhookSigningSecret.init)))
                try await body(handler, store, inbox, control)
                try await http.shutdown()
            } catch {
                try? await http.shutdown()
                throw error
            }
            await store.close()
        }
    }

    @Test("many alerts go out as one signed digest with an idempotency key, and are marked delivered")
    func signedDigest() async throws {
        let alerts = [alert("a1", kind: "buybox.lost", severity: .high), alert("a2", kind: "listing.suppressed", severity: .critical),
                      alert("a3", kind: "listing.title.changed", severity: .medium, diff: "- old\n+ new")]
        try await withHandler(alerts: alerts) { handler, store, inbox, _ in
            let before = Int64(Date().timeIntervalSince1970)
            let summary = try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            #expect(summary.delivered == 3 && summary.digests == 1)

            let requests = await inbox.requests
            try #require(requests.count == 1, "one request for the whole digest")
            let request = requests[0]
            #expect(request.path == "/ok/hook")
            #expect(request.headers["content-type"] == "application/json")
            // The receiver's check, recomputed here from the shared secret.
            let timestamp = try #require(request.headers["x-optmazon-timestamp"].flatMap(Int64.init))
            #expect(abs(timestamp - before) <= 60)
            var signed = Data("\(timestamp).".utf8)
            signed.append(request.body)
            let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(Self.secret.utf8)))
            #expect(request.headers["x-optmazon-signature"] == "v1=" + mac.map { String(format: "%02x", $0) }.joined())
            // A tampered body or another secret does not verify.
            var tampered = Data("\(timestamp).".utf8)
            tampered.append(request.body.dropLast())
            let forged = HMAC<SHA256>.authenticationCode(for: tampered, using: SymmetricKey(data: Data(Self.secret.utf8)))
            #expect(request.headers["x-optmazon-signature"] != "v1=" + forged.map { String(format: "%02x", $0) }.joined())

            let digest = AlertDigest(seller: seller, alerts: alerts)
            #expect(request.headers["idempotency-key"] == digest.id)
            let json = try #require(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(json["type"] as? String == "optmazon.alerts")
            #expect(json["count"] as? Int == 3)
            #expect(json["seller"] as? String == seller.rawValue)
            let items = try #require(json["alerts"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == ["a2", "a1", "a3"], "worst first")
            #expect(items.allSatisfy { $0["idempotency_key"] as? String == $0["id"] as? String })
            #expect(items[2]["diff"] as? String == "- old\n+ new")

            let stored = try await store.rows(Alert.self)
            #expect(stored.allSatisfy { $0.state == .delivered && $0.attempts == 1 && $0.lastError.isEmpty })

            // A re-delivered job finds nothing left to send.
            let again = try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            #expect(again.delivered == 0)
            #expect(await inbox.requests.count == 1)
        }
    }

    @Test("the signer verifies its own signatures and refuses stale timestamps")
    func signerRoundTrip() throws {
        let signer = WebhookSigner(secret: try #require(WebhookSigningSecret(Self.secret)))
        let body = Data("{\"a\":1}".utf8)
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let signature = signer.signature(timestamp: 1_750_000_000, body: body)
        #expect(signer.verify(signature: signature, timestamp: 1_750_000_000, body: body, now: now))
        #expect(!signer.verify(signature: signature, timestamp: 1_750_000_000, body: Data("{\"a\":2}".utf8), now: now))
        #expect(!signer.verify(signature: signature, timestamp: 1_750_000_000, body: body, now: now.addingTimeInterval(301)), "replay")
        #expect(WebhookSigningSecret("") == nil)
        #expect(!"\(try #require(WebhookSigningSecret(Self.secret)))".contains(Self.secret))
    }

    @Test("Slack gets one incoming-webhook message: text fallback, header, one section per alert, footer")
    func slackMessageShape() async throws {
        let alerts = [alert("s1", kind: "buybox.lost"), alert("s2", kind: "offers.new_competitor", severity: .critical)]
        try await withHandler(webhookPath: nil, slackPath: "/slack/T000/B000/XXXX", alerts: alerts) { handler, store, inbox, _ in
            try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            let requests = await inbox.requests
            try #require(requests.count == 1)
            #expect(requests[0].headers["x-optmazon-signature"] == nil, "Slack bodies are not HMAC-signed")
            let json = try #require(JSONSerialization.jsonObject(with: requests[0].body) as? [String: Any])
            let text = try #require(json["text"] as? String)
            #expect(text.hasPrefix("OptMazon: 2 alerts for seller A1ALERTS (2025-06-30): 1 critical, 1 high"))
            let blocks = try #require(json["blocks"] as? [[String: Any]])
            #expect(blocks.map { $0["type"] as? String } == ["header", "section", "section", "section", "context"])
            let first = try #require((blocks[2]["text"] as? [String: Any])?["text"] as? String)
            #expect(first.hasPrefix("*CRITICAL* `offers.new_competitor` B0TEST0001 / SKU-1"))
            #expect(first.contains("&lt;check&gt;"), "mrkdwn control characters are escaped")
            let stored = try await store.rows(Alert.self)
            #expect(stored.allSatisfy { $0.state == .delivered })
        }
    }

    @Test("a failing receiver (HTTP 500) fails the job transiently; the alerts stay pending with the reason")
    func failingReceiver() async throws {
        try await withHandler(webhookPath: "/fail/hook", alerts: [alert("f1", kind: "buybox.lost"), alert("f2", kind: "listing.suppressed")]) { handler, store, inbox, _ in
            await #expect {
                try await handler.handle(job, context: context(InMemoryJobQueue(), job: job))
            } throws: { error in
                guard let error = error as? JobError else { return false }
                return error.retryable && error.message.contains("answered HTTP 500") && error.message.contains("2 alerts stay pending")
                    && !error.message.contains("/fail/hook")
            }
            #expect(await inbox.requests.count == 1)
            let stored = try await store.undeliveredAlerts()
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { $0.state == .pending && $0.attempts == 1 && $0.lastError.contains("HTTP 500") })
        }
    }

    @Test("every attempt is logged per channel in the store; a retry skips the channel that already took the digest")
    func deliveryLogAndPartialRetry() async throws {
        try await withHandler(webhookPath: "/fail/hook", slackPath: "/ok/slack", alerts: [alert("p1", kind: "buybox.lost"), alert("p2", kind: "price.moved")]) { handler, store, inbox, control in
            await #expect(throws: JobError.self) { try await handler.handle(job, context: context(InMemoryJobQueue(), job: job)) }
            var log = try await store.rows(AlertDelivery.self).sorted { $0.channel < $1.channel }
            #expect(log.map(\.channel) == ["slack", "webhook"])
            #expect(log[0].delivered && log[0].status == 200 && log[0].error.isEmpty)
            #expect(!log[1].delivered && log[1].status == 500 && log[1].error == "HTTP 500")
            #expect(log.allSatisfy { $0.alertIDs.sorted() == ["p1", "p2"] && !$0.endpoint.contains("/hook") && !$0.endpoint.contains("/slack") },
                    "the log names the alerts and the endpoint host, never its path")

            _ = try await control.updateSettings(of: seller) { $0.webhookURL = $0.webhookURL?.replacingOccurrences(of: "/fail/", with: "/ok/") }
            try await handler.handle(job, context: context(InMemoryJobQueue(), job: job))
            #expect(await inbox.requests.map(\.path) == ["/fail/hook", "/ok/slack", "/ok/hook"], "Slack got the digest once")
            log = try await store.rows(AlertDelivery.self)
            #expect(log.count == 3 && log.filter(\.delivered).map(\.channel).sorted() == ["slack", "webhook"])
            #expect(try await store.undeliveredAlerts().isEmpty)
        }
    }

    @Test("a 400 answer fails permanently: a retry cannot fix a refused payload")
    func rejectingReceiver() async throws {
        try await withHandler(webhookPath: "/reject/hook", alerts: [alert("r1", kind: "buybox.lost")]) { handler, store, _, _ in
            await #expect {
                try await handler.handle(job, context: context(InMemoryJobQueue(), job: job))
            } throws: { ($0 as? JobError)?.retryable == false }
            let kept = try await store.undeliveredAlerts()
            #expect(kept.map(\.id) == ["r1"])
        }
    }

    @Test("connection refused fails transiently; after the attempt limit the worker dead-letters the job and the alerts stay")
    func unreachableIsRetriedThenDeadLettered() async throws {
        let port = try await Receiver.closedPort()
        let stores = try TempStores()
        defer { stores.cleanup() }
        let control = try await stores.register(seller, webhook: "http://127.0.0.1:\(port)/hook")
        let store = try await stores.storage.openSeller(seller)
        try await store.save([alert("u1", kind: "buybox.lost")])
        try await AlerterJobs.withHTTPClient { http in
            let handler = AlertJobHandler(control: control, stores: SellerStoreCache(storage: stores.storage), http: http,
                                          configuration: AlertConfiguration(signingSecret: WebhookSigningSecret(Self.secret)))
            let queue = InMemoryJobQueue()
            _ = try await queue.enqueue(job)
            let worker = JobWorker(queue: queue, handler: handler,
                                   configuration: WorkerConfiguration(kinds: [.alert], concurrency: 1, burst: true, burstHorizon: 30,
                                                                      retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.2)),
                                   logger: Logger(label: "alert-worker"))
            try await worker.run()
            let dead = try await queue.deadJobs(limit: 10)
            try #require(dead.count == 1)
            #expect(dead[0].reason.hasPrefix("gave up after 3 attempts: alert delivery for seller A1ALERTS: webhook http://127.0.0.1:\(port) unreachable"))
            #expect(dead[0].reason.hasSuffix("1 alert stays pending in the outbox"))
            let status = try await queue.status(kinds: [.alert])
            #expect(status.first?.retried == 2)
        }
        let stored = try await store.undeliveredAlerts()
        #expect(stored.map(\.id) == ["u1"])
        #expect(stored.first?.attempts == 3)
        #expect(stored.first?.state == .pending)
        await store.close()
    }

    @Test("the same alert is not sent twice within the window; a different change is")
    func dedupeWithinWindow() async throws {
        let yesterday = today.adding(days: -1)
        var sent = alert("d0", kind: "buybox.lost", day: yesterday)
        sent.state = .delivered
        let repeatOfYesterday = alert("d1", kind: "buybox.lost")
        let otherSKU = alert("d2", kind: "buybox.lost", sku: "SKU-2")
        let olderInBatch = alert("d3", kind: "listing.title.changed", day: yesterday, diff: "same")
        let newerInBatch = alert("d4", kind: "listing.title.changed", diff: "same")
        try await withHandler(alerts: [sent, repeatOfYesterday, otherSKU, olderInBatch, newerInBatch]) { handler, store, inbox, _ in
            let summary = try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            #expect(summary.suppressed == 2)
            #expect(summary.delivered == 2)
            let requests = await inbox.requests
            try #require(requests.count == 1)
            let json = try #require(JSONSerialization.jsonObject(with: requests[0].body) as? [String: Any])
            let ids = (json["alerts"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted()
            #expect(ids == ["d2", "d4"])
            let byID = Dictionary(uniqueKeysWithValues: try await store.rows(Alert.self).map { ($0.id, $0) })
            #expect(byID["d1"]?.state == .suppressed)
            #expect(byID["d1"]?.lastError == "duplicate of alert d0 delivered within the window")
            #expect(byID["d3"]?.state == .suppressed)
            #expect(byID["d0"]?.state == .delivered)
        }
    }

    @Test("a revoked seller gets nothing delivered; a seller without channels keeps its alerts pending")
    func revokedAndUnconfigured() async throws {
        try await withHandler(alerts: [alert("v1", kind: "buybox.lost")]) { handler, store, inbox, control in
            try await control.setStatus(of: seller, to: .revoked)
            let summary = try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            #expect(summary.skipped)
            #expect(await inbox.requests.isEmpty)
            let kept = try await store.undeliveredAlerts()
            #expect(kept.map(\.id) == ["v1"])
        }
        try await withHandler(webhookPath: nil, slackPath: nil, alerts: [alert("n1", kind: "buybox.lost")]) { handler, store, inbox, _ in
            let summary = try await handler.run(job, context: context(InMemoryJobQueue(), job: job))
            #expect(summary.skipped)
            #expect(await inbox.requests.isEmpty)
            let kept = try await store.undeliveredAlerts()
            #expect(kept.map(\.id) == ["n1"])
        }
    }

    @Test("a webhook without a signing secret fails permanently, sending nothing")
    func missingSecret() async throws {
        try await withHandler(alerts: [alert("m1", kind: "buybox.lost")], secret: nil) { handler, store, inbox, _ in
            await #expect {
                try await handler.handle(job, context: context(InMemoryJobQueue(), job: job))
            } throws: { error in
                guard let error = error as? JobError else { return false }
                return !error.retryable && error.message.contains("OPTMAZON_WEBHOOK_SIGNING_SECRET")
            }
            #expect(await inbox.requests.isEmpty)
            let kept = try await store.undeliveredAlerts()
            #expect(kept.map(\.id) == ["m1"])
        }
    }

    @Test("endpoints: https anywhere, http only to loopback hosts")
    func endpointRules() throws {
        #expect(try AlertEndpoint("https://hooks.example.com/x", channel: "webhook").label == "https://hooks.example.com")
        #expect(try AlertEndpoint("http://127.0.0.1:8080/x", channel: "webhook").label == "http://127.0.0.1:8080")
        #expect(throws: AlertEndpointError.self) { try AlertEndpoint("http://localhost.example.com/x", channel: "webhook") }
        #expect(throws: AlertEndpointError.self) { try AlertEndpoint("http://hooks.example.com/x", channel: "webhook") }
        #expect(throws: AlertEndpointError.self) { try AlertEndpoint("ftp://hooks.example.com/x", channel: "slack") }
        #expect(throws: AlertEndpointError.self) { try AlertEndpoint("https://user:pw@hooks.example.com/x", channel: "webhook") }
        #expect(throws: AlertEndpointError.self) { try AlertEndpoint("not a url", channel: "webhook") }
    }
}
