import Crypto
import Domain
import Foundation

/// The alerts of one delivery, sent as one webhook request and one Slack message.
public struct AlertDigest: Sendable, Equatable {
    public var seller: SellerID
    /// Worst severity first, then day (newest first), ASIN, SKU, kind.
    public var alerts: [Alert]

    public init(seller: SellerID, alerts: [Alert]) {
        self.seller = seller
        self.alerts = alerts.sorted { a, b in
            if a.severity != b.severity { return a.severity < b.severity }
            if a.day != b.day { return a.day > b.day }
            return (a.asin, a.sku, a.kind, a.id) < (b.asin, b.sku, b.kind, b.id)
        }
    }

    /// Stable for the same set of alerts (the `Idempotency-Key` of the request), whatever their order.
    public var id: String {
        let joined = alerts.map(\.id).sorted().joined(separator: ",")
        return SHA256.hash(data: Data(joined.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The webhook body: compact JSON with sorted keys.
    ///
    /// `{"type":"optmazon.alerts","version":1,"digest_id":…,"seller":…,"count":…,"alerts":[{"id","idempotency_key",
    /// "day","kind","severity","asin","sku","summary","diff","evidence":[{"name","value"}]}]}`
    public func webhookBody() -> Data {
        let payload = WebhookPayload(
            type: "optmazon.alerts", version: 1, digestID: id, seller: seller.rawValue, count: alerts.count,
            alerts: alerts.map { a in
                WebhookPayload.Item(id: a.id, idempotencyKey: a.id, day: a.day.rawValue, kind: a.kind, severity: a.severity.rawValue,
                                    asin: a.asin, sku: a.sku, summary: a.summary, diff: a.diff,
                                    evidence: a.evidence.map { .init(name: $0.name, value: $0.value) })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A struct of strings, integers and arrays of them always encodes.
        return try! encoder.encode(payload)
    }

    /// A Slack incoming-webhook message: a plain `text` fallback and Block Kit blocks, at most `maxAlerts` listed.
    public func slackBody(maxAlerts: Int = 40) -> Data {
        let counts = Severity.allCases.compactMap { s -> String? in
            let n = alerts.filter { $0.severity == s }.count
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }.joined(separator: ", ")
        let days = Set(alerts.map(\.day)).sorted()
        let span = days.count <= 1 ? (days.first?.rawValue ?? "") : "\(days.first!.rawValue) to \(days.last!.rawValue)"
        let headline = "OptMazon: \(alerts.count) alert\(alerts.count == 1 ? "" : "s") for seller \(seller.rawValue) (\(span)): \(counts)"
        var blocks: [SlackMessage.Block] = [
            .init(type: "header", text: .init(type: "plain_text", text: String("OptMazon alerts — seller \(seller.rawValue)".prefix(150)))),
            .init(type: "section", text: .init(type: "mrkdwn", text: Self.escape(headline))),
        ]
        let shown = alerts.prefix(max(1, min(maxAlerts, 45)))
        for a in shown {
            var line = "*\(a.severity.rawValue.uppercased())* `\(Self.escape(a.kind))` \(Self.escape([a.asin, a.sku].filter { !$0.isEmpty }.joined(separator: " / ")))\n"
            line += Self.escape(String(a.summary.prefix(600)))
            if !a.evidence.isEmpty {
                line += "\n_" + Self.escape(String(a.evidence.map { "\($0.name) \($0.value)" }.joined(separator: " · ").prefix(600))) + "_"
            }
            blocks.append(.init(type: "section", text: .init(type: "mrkdwn", text: String(line.prefix(2_900)))))
        }
        let rest = alerts.count - shown.count
        let footer = (rest > 0 ? "… and \(rest) more. " : "") + "Details: `optmazon report --seller \(seller.rawValue)`"
        blocks.append(.init(type: "context", elements: [.init(type: "mrkdwn", text: footer)]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(SlackMessage(text: headline, blocks: blocks))
    }

    /// Slack mrkdwn control characters.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

struct WebhookPayload: Codable, Equatable {
    struct Evidence: Codable, Equatable {
        var name: String
        var value: String
    }

    struct Item: Codable, Equatable {
        var id: String
        var idempotencyKey: String
        var day: String
        var kind: String
        var severity: String
        var asin: String
        var sku: String
        var summary: String
        var diff: String
        var evidence: [Evidence]

        enum CodingKeys: String, CodingKey {
            case id, idempotencyKey = "idempotency_key", day, kind, severity, asin, sku, summary, diff, evidence
        }
    }

    var type: String
    var version: Int
    var digestID: String
    var seller: String
    var count: Int
    var alerts: [Item]

    enum CodingKeys: String, CodingKey {
        case type, version, digestID = "digest_id", seller, count, alerts
    }
}

struct SlackMessage: Codable, Equatable {
    struct Text: Codable, Equatable {
        var type: String
        var text: String
    }

    struct Block: Codable, Equatable {
        var type: String
        var text: Text?
        var elements: [Text]?

        init(type: String, text: Text? = nil, elements: [Text]? = nil) {
            self.type = type
            self.text = text
            self.elements = elements
        }
    }

    var text: String
    var blocks: [Block]
}
