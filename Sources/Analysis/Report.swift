import Domain
import Foundation

/// Everything `optmazon report` shows, in the form its `--json` output takes.
public struct Report: Codable, Hashable, Sendable {
    /// Counts by severity, worst first, so a reader sees the size of the problem before the details.
    public struct Counts: Codable, Hashable, Sendable {
        public var total: Int
        public var bySeverity: [String: Int]
    }

    public var sellerID: SellerID
    public var day: Day?
    public var alertCounts: Counts
    public var recommendationCounts: Counts
    /// Worst severity first.
    public var alerts: [Alert]
    /// Grouped by category, each group worst first.
    public var recommendations: [Recommendation]
    public var qualityScores: [ListingQualityScore]
    public var rewrites: [ListingRewrite]

    /// Builds a report from stored findings; sorts them itself so callers can pass them in any order.
    public init(sellerID: SellerID, day: Day?, recommendations: [Recommendation], alerts: [Alert],
                qualityScores: [ListingQualityScore] = [], rewrites: [ListingRewrite] = []) {
        self.sellerID = sellerID
        self.day = day
        self.alerts = alerts.sorted { a, b in
            if a.severity != b.severity { return a.severity < b.severity }
            return (a.asin, a.sku, a.kind, a.id) < (b.asin, b.sku, b.kind, b.id)
        }
        let groups = ReportRenderer.group(recommendations)
        self.recommendations = groups.flatMap(\.items)
        self.alertCounts = Self.count(alerts.map(\.severity))
        self.recommendationCounts = Self.count(recommendations.map(\.severity))
        self.qualityScores = qualityScores.sorted { ($0.score, $0.sku) < ($1.score, $1.sku) }
        self.rewrites = rewrites.sorted { $0.sku < $1.sku }
    }

    /// The report of one analysis result.
    public init(_ result: AnalysisResult) {
        self.init(sellerID: result.sellerID, day: result.day, recommendations: result.recommendations,
                  alerts: result.alerts, qualityScores: result.qualityScores, rewrites: result.rewrites)
    }

    static func count(_ severities: [Severity]) -> Counts {
        var by: [String: Int] = [:]
        for s in severities { by[s.rawValue, default: 0] += 1 }
        return Counts(total: severities.count, bySeverity: by)
    }
}

/// Renders recommendations and alerts for a terminal (grouped, worst first, with evidence) or as JSON.
public struct ReportRenderer: Sendable {
    /// Category titles in the order used when two groups are equally severe.
    static let categories: [(key: String, title: String)] = [
        ("listing", "Listing quality"), ("keywords", "Keyword gaps"), ("sqp", "Search query funnel"),
        ("pricing", "Pricing and Buy Box"), ("ads", "Advertising"),
    ]

    /// Line width the terminal form wraps summaries to.
    public var width: Int

    public init(width: Int = 100) {
        self.width = max(40, width)
    }

    struct Group {
        var key: String
        var title: String
        var items: [Recommendation]
    }

    /// Recommendations grouped by category; groups ordered by their worst item, items worst first.
    static func group(_ recommendations: [Recommendation]) -> [Group] {
        var byKey: [String: [Recommendation]] = [:]
        for r in recommendations { byKey[r.category, default: []].append(r) }
        func rank(_ key: String) -> Int { categories.firstIndex { $0.key == key } ?? categories.count }
        return byKey.keys.map { key in
            Group(key: key, title: categories.first { $0.key == key }?.title ?? key.capitalized,
                  items: byKey[key]!.sorted { a, b in
                      if a.severity != b.severity { return a.severity < b.severity }
                      return (a.asin, a.sku, a.ruleID, a.subject, a.id) < (b.asin, b.sku, b.ruleID, b.subject, b.id)
                  })
        }.sorted { a, b in
            let wa = a.items.map(\.severity).min() ?? .info, wb = b.items.map(\.severity).min() ?? .info
            if wa != wb { return wa < wb }
            return (rank(a.key), a.key) < (rank(b.key), b.key)
        }
    }

    /// The terminal form of `report`.
    public func text(_ report: Report) -> String {
        var out: [String] = []
        out.append("OptMazon report — seller \(report.sellerID.rawValue)" + (report.day.map { " — \($0.rawValue)" } ?? ""))
        out.append("\(counts(report.alertCounts)) alerts · \(counts(report.recommendationCounts)) recommendations")
        out.append("")
        out.append("ALERTS")
        if report.alerts.isEmpty { out.append("  none") }
        for a in report.alerts {
            out.append("  [\(a.severity.rawValue.uppercased())] \(a.kind)  \(subjectLine(asin: a.asin, sku: a.sku, subject: ""))")
            out += wrap(a.summary, indent: "      ")
            if !a.diff.isEmpty {
                out.append("      diff:")
                out += a.diff.split(separator: "\n", omittingEmptySubsequences: false).map { "        " + $0 }
            }
            if !a.evidence.isEmpty { out += wrap("evidence: " + evidence(a.evidence), indent: "      ") }
        }
        out.append("")
        out.append("RECOMMENDATIONS")
        let groups = Self.group(report.recommendations)
        if groups.isEmpty { out.append("  none") }
        for g in groups {
            out.append("")
            out.append("== \(g.title) (\(g.items.count)) ==")
            for r in g.items {
                out.append("  [\(r.severity.rawValue.uppercased())] \(r.ruleID)  \(subjectLine(asin: r.asin, sku: r.sku, subject: r.subject))")
                out += wrap(r.summary, indent: "      ")
                let action = r.action.split(separator: "\n", omittingEmptySubsequences: false)
                if let first = action.first { out += wrap("→ " + first, indent: "      ") }
                out += action.dropFirst().map { "        " + $0 }
                out += wrap("evidence: " + evidence(r.evidence), indent: "      ")
                out += wrap("confidence \(Fmt.num(r.confidence * 100, 0))% · impact: \(r.expectedImpact)", indent: "      ")
            }
        }
        if !report.qualityScores.isEmpty {
            out.append("")
            out.append("LISTING QUALITY SCORES (worst first)")
            for s in report.qualityScores.prefix(20) {
                let parts = s.components.map { "\($0.name) \(Fmt.num($0.points, 0))/\(Fmt.num($0.weight, 0))" }.joined(separator: ", ")
                out.append("  \(Fmt.num(s.score, 0))/100  \(s.asin) / \(s.sku)  (\(parts))")
            }
            if report.qualityScores.count > 20 { out.append("  … \(report.qualityScores.count - 20) more in --json") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The terminal form of one analysis result.
    public func text(_ result: AnalysisResult) -> String { text(Report(result)) }

    /// The complete JSON form: pretty-printed with sorted keys, so equal reports give equal bytes.
    public func json(_ report: Report) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }

    private func counts(_ c: Report.Counts) -> String {
        let parts = Severity.allCases.compactMap { s in c.bySeverity[s.rawValue].map { "\($0) \(s.rawValue)" } }
        return parts.isEmpty ? "0" : "\(c.total) (" + parts.joined(separator: ", ") + ")"
    }

    private func subjectLine(asin: String, sku: String, subject: String) -> String {
        [asin, sku, subject].filter { !$0.isEmpty }.joined(separator: " / ")
    }

    private func evidence(_ items: [Evidence]) -> String {
        items.map { "\($0.name) \($0.value)" }.joined(separator: " · ")
    }

    /// Wraps `text` at word boundaries to `width`, every line prefixed by `indent`.
    private func wrap(_ text: String, indent: String) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, indent.count + line.count + 1 + word.count > width {
                lines.append(indent + line)
                line = "  " + word
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        if !line.isEmpty { lines.append(indent + line) }
        return lines
    }
}
