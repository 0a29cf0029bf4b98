import Analysis
import Domain
import Foundation
import Testing

@Suite("Rule-based rewrite, validator and report")
struct RewriteAndReportTests {
    static func badSeller() -> SellerFixture {
        var f = SellerFixture.clean()
        var bullets = SellerFixture.cleanBullets
        bullets[0] = "Keeps drinks cold 🧊 for 24 hours™, money back guarantee"
        bullets[3] = "Replacement lid fits B0ABCDEFGH"
        f.listings = [SellerFixture.listing(
            title: "ACME BOTTLE!! Best Seller Water Bottle, Steel Bottle, Kids Bottle 32 oz Free Shipping "
                + String(repeating: "Insulated Leakproof ", count: 8),
            bullets: bullets, backend: "acme bottle best new flask, flask canteen b0abcdefgh for the thermos",
            description: "<p>Great bottle</p> mail help@acme.example or call 1-800-555-0199")]
        f.previousListings = []
        for w in 1...4 {
            f.searchQueries.append(SellerFixture.sqp(query: "kids bottle with straw", weeksAgo: w, purchaseShare: 0.2))
            f.searchQueries.append(SellerFixture.sqp(query: "bpa free tumbler", weeksAgo: w, purchaseShare: 0.1))
        }
        return f
    }

    @Test("the rule-based rewrite of a broken listing fixes every title and backend rule and keeps the budget")
    func ruleBasedRewrite() throws {
        let result = Self.badSeller().analyze()
        let rewrite = try #require(result.rewrites.first)
        #expect(rewrite.source == "rules")
        #expect(rewrite.scoreAfter > rewrite.scoreBefore)
        let remaining = Set(rewrite.remainingViolations.map(\.ruleID))
        #expect(remaining.filter { $0.hasPrefix("listing.title") || $0.hasPrefix("listing.backend") || $0.hasPrefix("listing.description") }.isEmpty,
                "\(rewrite.remainingViolations)")
        #expect(!remaining.contains("listing.bullets.claims") && !remaining.contains("listing.bullets.banned_symbols"))
        #expect(rewrite.content.title.count <= 200)
        #expect(rewrite.content.backendKeywords.utf8.count <= 249)
        #expect(!rewrite.content.backendKeywords.contains("acme"))
        #expect(rewrite.keywordsAdded.contains("straw"))
        let rec = try #require(result.recommendations(rule: "listing.rewrite").first)
        #expect(rec.action.hasPrefix("title: "))
        #expect(rec.evidence("source") == "rules")
    }

    @Test("the rewrite packs multibyte gap words by bytes and never passes 249")
    func multibyteRewriteBudget() throws {
        var f = SellerFixture.clean()
        let filler = (0..<30).map { "wört\($0)" }.joined(separator: " ")
        let title = SellerFixture.cleanTitle + " " + (0..<20).map { "Size\($0)" }.joined(separator: " ")
        f.listings = [SellerFixture.listing(title: String(title.prefix(195)), backend: String(filler.prefix(230)))]
        f.previousListings = []
        for w in 1...4 {
            f.searchQueries.append(SellerFixture.sqp(query: "trinkflasche größe edelstahl über", weeksAgo: w, purchaseShare: 0.2))
        }
        let rewrite = try #require(f.analyze().rewrites.first)
        #expect(rewrite.keywordsAdded == ["trinkflasche", "größe", "edelstahl", "über"])
        #expect(rewrite.content.backendKeywords.hasPrefix("trinkflasche größe edelstahl über wört0"))
        #expect(rewrite.content.backendKeywords.utf8.count <= 249)
        #expect(rewrite.content.backendKeywords.utf8.count > 240, "the budget is used, not left empty")
        #expect(!rewrite.remainingViolations.contains { $0.ruleID == "listing.backend.bytes" })
    }

    @Test("the validator returns the reasons a candidate fails")
    func validatorReasons() {
        let request = RewriteRequest(asin: "B0TEST0001", sku: "SKU-1", brand: "Acme",
                                     current: ListingContent(SellerFixture.listing()),
                                     context: ListingContext(ownBrands: ["Acme"]), keywordGaps: [], violations: [])
        let validator = RewriteValidator()
        #expect(validator.failures(of: request.current, for: request).isEmpty)
        var bad = request.current
        bad.title += " Free Shipping!"
        bad.backendKeywords = "acme " + bad.backendKeywords
        let reasons = validator.failures(of: bad, for: request)
        #expect(reasons.contains { $0.hasPrefix("listing.title.banned_chars (title): ") })
        #expect(reasons.contains { $0.hasPrefix("listing.title.promotional") })
        #expect(reasons.contains { $0.hasPrefix("listing.backend.brand") })
    }

    @Test("the terminal report groups by category, worst first, with evidence; the JSON form round-trips")
    func report() throws {
        var f = Self.badSeller()
        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: 23.49, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 23.49, winner: true)])]
        let result = f.analyze()
        let report = Report(result)
        let renderer = ReportRenderer()
        let text = renderer.text(report)
        #expect(text.hasPrefix("OptMazon report — seller A1TESTSELLER — 2025-06-30\n"))
        #expect(text.contains("== Listing quality ("))
        #expect(text.contains("== Pricing and Buy Box (1) =="))
        #expect(text.contains("[HIGH] listing.title.length"))
        #expect(text.contains("evidence: characters "))
        #expect(text.contains("[HIGH] buybox.lost"))
        let alertsAt = try #require(text.range(of: "ALERTS"))
        let recsAt = try #require(text.range(of: "RECOMMENDATIONS"))
        #expect(alertsAt.lowerBound < recsAt.lowerBound)
        // Worst first inside a group: no lower severity before a higher one.
        for group in ReportRendererProbe.groups(of: report.recommendations) {
            #expect(group == group.sorted(), "severities in order")
        }
        let data = try renderer.json(report)
        let decoded = try JSONDecoder().decode(Report.self, from: data)
        #expect(decoded == report)
        #expect(try renderer.json(Report(f.analyze())) == data, "equal reports give equal bytes")
    }

    @Test("an empty report says so")
    func emptyReport() {
        let text = ReportRenderer().text(Report(sellerID: SellerFixture.seller, day: nil, recommendations: [], alerts: []))
        #expect(text.contains("ALERTS\n  none"))
        #expect(text.contains("RECOMMENDATIONS\n  none"))
    }
}

/// Severities of consecutive recommendations per category, in report order.
enum ReportRendererProbe {
    static func groups(of recs: [Recommendation]) -> [[Severity]] {
        var out: [[Severity]] = []
        var last = ""
        for r in recs {
            if r.category != last { out.append([]); last = r.category }
            out[out.count - 1].append(r.severity)
        }
        return out
    }
}
