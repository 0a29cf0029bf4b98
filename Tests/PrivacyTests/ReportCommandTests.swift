import Domain
import Foundation
import PipelineTesting
import SellerStore
import Testing

/// `optmazon report`: the operator's view of a seller's latest findings, as a real process reading the encrypted store.
@Suite("optmazon report", .serialized)
struct ReportCommandTests {
    @Test("prints the newest day's alerts and recommendations worst first with their evidence, and all of it as JSON")
    func textAndJSON() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("REPORT1")
        let today = Day(Date())
        let store = try await f.storage.openSeller(seller)
        try await store.save([
            finding("old", day: today.adding(days: -2), severity: .critical, summary: "An older day's advice"),
            finding("low", day: today, severity: .low, summary: "Bullet 4 could name the material"),
            finding("high", day: today, severity: .high, summary: "Title is 230 characters, over the 200 limit"),
        ])
        try await store.save([Alert(id: "al1", day: today, kind: "buybox.lost", severity: .critical, asin: "B0REPORT1", sku: "SKU-R",
                                    summary: "Buy Box lost to a seller 0.50 cheaper", evidence: [Evidence("buy box price", "18.49")])])
        await store.close()

        let text = try await ProductProcess.run("optmazon", ["report", "--seller", "REPORT1"], environment: f.environment)
        #expect(text.status == 0, "\(text.stderr)")
        let out = text.stdout
        #expect(out.contains("Buy Box lost to a seller 0.50 cheaper") && out.contains("18.49"), "alerts with their evidence:\n\(out)")
        let high = try #require(out.range(of: "Title is 230 characters"))
        let low = try #require(out.range(of: "Bullet 4 could name the material"))
        #expect(high.lowerBound < low.lowerBound, "worst first")
        #expect(out.contains("title length") && out.contains("230"), "recommendations with their evidence")
        #expect(!out.contains("An older day's advice"), "only the newest analysed day")

        let json = try await ProductProcess.run("optmazon", ["report", "--seller", "REPORT1", "--json"], environment: f.environment)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let recommendations = try #require(object["recommendations"] as? [[String: Any]])
        #expect(Set(recommendations.compactMap { $0["id"] as? String }) == ["high", "low"])
        #expect((object["alerts"] as? [[String: Any]])?.first?["id"] as? String == "al1")
        #expect(recommendations.allSatisfy { ($0["evidence"] as? [Any])?.isEmpty == false }, "complete: evidence included")
        try await f.cleanup()
    }

    @Test("a seller without a store, a bad seller id and a bad day are one-line errors")
    func badInput() async throws {
        let f = try await PrivacyFixture()
        _ = try await f.register("REPORT2")
        for (arguments, mentions) in [(["--seller", "REPORT2"], "has no store"), (["--seller", "bad id!"], "invalid --seller"),
                                      (["--seller", "REPORT2", "--day", "yesterday"], "invalid --day")] {
            let result = try await ProductProcess.run("optmazon", ["report"] + arguments, environment: f.environment)
            #expect(result.status != 0)
            let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errorLines.count == 1 && errorLines[0].contains(mentions), "\(arguments): \(result.stderr)")
        }
        try await f.cleanup()
    }
}

private func finding(_ id: String, day: Day, severity: Severity, summary: String) -> Recommendation {
    Recommendation(id: id, day: day, ruleID: "listing.title.length", category: "listing", asin: "B0REPORT1", sku: "SKU-R",
                   subject: "title", severity: severity, summary: summary, action: "Shorten the title",
                   evidence: [Evidence("title length", "230"), Evidence("limit", "200")], confidence: 0.95, expectedImpact: "listing stays searchable")
}
