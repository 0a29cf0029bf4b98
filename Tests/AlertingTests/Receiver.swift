#if canImport(Glibc)
import Glibc
#endif
import Domain
import Foundation
import HTTPTesting
import Hummingbird
import JobQueue
import Logging
import NIOCore
import SellerStore

/// One request the receiver got.
struct Received: Sendable {
    var path: String
    var headers: [String: String]
    var body: Data
}

/// What the receiver got, in order.
actor Inbox {
    private(set) var requests: [Received] = []

    func record(_ request: Received) { requests.append(request) }
}

/// A webhook receiver on 127.0.0.1 (ephemeral port). The path picks the answer: `/ok/...` and `/slack/...` 200,
/// `/fail/...` 500, `/reject/...` 400.
enum Receiver {
    static func run<T: Sendable>(_ inbox: Inbox, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("**") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 4 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let path = request.uri.path
            await inbox.record(Received(path: path, headers: headers, body: Data(bytes.readableBytesView)))
            if path.hasPrefix("/fail") { return Response(status: .internalServerError) }
            if path.hasPrefix("/reject") { return Response(status: .badRequest) }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        }
        return try await LoopbackServer.run(router, label: "webhook receiver", body)
    }

    /// A loopback port nothing listens on: the receiver's, after it stopped.
    static func closedPort() async throws -> Int {
        let url = try await run(Inbox()) { $0 }
        return Int(url.split(separator: ":").last!)!
    }

}

/// A throwaway 0700 directory with the seller stores and the registry, under a throwaway master key.
struct TempStores {
    let root: String
    let storage: SellerStorage

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/alerting-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        root = String(cString: made!)
        storage = try SellerStorage(StoreLocations(dataDirectory: root + "/data", keyDirectory: root + "/keys", masterKey: .generate()))
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }

    func register(_ seller: SellerID, webhook: String? = nil, slack: String? = nil) async throws -> ControlStore {
        let control = try await storage.openControlStore()
        try await control.register(SellerRegistration(sellerID: seller, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"],
                                                      spRefreshToken: Secret("Atzr|test-token")))
        try await control.updateSettings(of: seller) { settings in
            settings.webhookURL = webhook
            settings.slackWebhookURL = slack
        }
        return control
    }
}

let seller = SellerID(rawValue: "A1ALERTS")!
let today = Day(rawValue: "2025-06-30")!

func alert(_ id: String, kind: String, severity: Severity = .high, day: Day = today, sku: String = "SKU-1", diff: String = "") -> Alert {
    Alert(id: id, day: day, kind: kind, severity: severity, asin: "B0TEST0001", sku: sku, summary: "\(kind) on \(sku) <check>",
          diff: diff, evidence: [Evidence("winner", "A2RIVAL")])
}

func context(_ queue: InMemoryJobQueue, job: JobEnvelope) -> JobContext {
    JobContext(logger: Logger(label: "alerting-tests"), queue: queue, delivery: Delivery(kind: job.kind, receipt: "1-0", raw: job.encoded()))
}
