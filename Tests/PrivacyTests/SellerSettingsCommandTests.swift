import Domain
import Foundation
import PipelineTesting
import SellerStore
import Testing

/// `optmazon sellers set`: the seller's advertising target, bid limits, price guardrails and alert channels.
@Suite("optmazon sellers set", .serialized)
struct SellerSettingsCommandTests {
    @Test("sets target ACoS, bid limits, a guardrail, a CSV of guardrails and both alert channels; then clears and removes them")
    func setsAndClears() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("SETOK1")
        try await f.store(seller, listingDays: [Day(Date()), Day(Date()), Day(Date())])
        let csv = f.root.appendingPathComponent("guardrails.csv")
        try "sku,floor,ceiling\nSKU1,5,15\nSKU2,6.5,20\n".write(to: csv, atomically: true, encoding: .utf8)

        let set = try await optmazon(f, ["sellers", "set", "SETOK1", "--target-acos", "25", "--min-bid", "0.10", "--max-bid", "4",
                                         "--sku", "SKU0", "--price-floor", "9.99", "--price-ceiling", "24.99",
                                         "--price-guardrails-csv", csv.path,
                                         "--webhook-url", "https://hooks.example.com/optmazon", "--slack-webhook-url", "https://hooks.slack.com/services/T/B/X"])
        #expect(set.status == 0, "\(set.stderr)")
        var settings = try await f.control.seller(seller).settings
        #expect(settings.targetACoS == 25 && settings.minBid == 0.10 && settings.maxBid == 4)
        #expect(settings.guardrails.keys.sorted() == ["SKU0", "SKU1", "SKU2"])
        #expect(settings.guardrails["SKU0"]?.floor == 9.99 && settings.guardrails["SKU2"]?.ceiling == 20)
        #expect(settings.webhookURL == "https://hooks.example.com/optmazon" && settings.slackWebhookURL != nil)

        let clear = try await optmazon(f, ["sellers", "set", "SETOK1", "--clear-webhook-url", "--clear-slack-webhook-url",
                                           "--remove-guardrail", "SKU1"])
        #expect(clear.status == 0, "\(clear.stderr)")
        settings = try await f.control.seller(seller).settings
        #expect(settings.webhookURL == nil && settings.slackWebhookURL == nil)
        #expect(settings.guardrails.keys.sorted() == ["SKU0", "SKU2"])
        try await f.cleanup()
    }

    @Test("invalid values are refused with one line naming what is wrong, and nothing changes",
          arguments: [
              (["--sku", "SKU0", "--price-floor", "30", "--price-ceiling", "20"], "floor"),
              (["--target-acos=-5"], "target ACoS"),
              (["--target-acos", "150"], "at most 100"),
              (["--sku", "NOSUCHSKU", "--price-floor", "1", "--price-ceiling", "2"], "unknown SKU"),
              (["--min-bid", "5", "--max-bid", "1"], "--min-bid 5.0 is above --max-bid 1.0"),
              (["--min-bid", "20"], "above maximum 10"),
              (["--max-bid", "0"], "--max-bid"),
              (["--remove-guardrail", "SKU0"], "no price guardrail"),
              (["--webhook-url", "http://hooks.example.com/x"], "--webhook-url"),
              (["--webhook-url", "https://a.example.com", "--clear-webhook-url"], "contradict"),
              (["--price-guardrails-csv", "BADCSV"], "unknown SKU"),
          ])
    func refusals(flags: [String], mentions: String) async throws {
        let f = try await PrivacyFixture(name: "refusals-\(flags.first ?? "")-\(mentions.prefix(8))")
        let seller = try await f.register("SETBAD1")
        try await f.store(seller, listingDays: [Day(Date())])
        let before = try await f.control.seller(seller).settings
        let csv = f.root.appendingPathComponent("bad.csv")
        try "SKU0,1,2\nTYPO-SKU,3,4\n".write(to: csv, atomically: true, encoding: .utf8)
        let arguments = flags.map { $0 == "BADCSV" ? csv.path : $0 }

        let result = try await optmazon(f, ["sellers", "set", "SETBAD1"] + arguments)
        #expect(result.status != 0)
        let line = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.contains(mentions) && !line.contains("\n"), "\(result.stderr)")
        #expect(try await f.control.seller(seller).settings == before, "nothing changed")
        try await f.cleanup()
    }

    @Test("a guardrail for a seller whose catalog was never fetched is refused, saying why")
    func guardrailBeforeFirstFetch() async throws {
        let f = try await PrivacyFixture()
        _ = try await f.register("SETNEW1")
        let result = try await optmazon(f, ["sellers", "set", "SETNEW1", "--sku", "A", "--price-floor", "1", "--price-ceiling", "2"])
        #expect(result.status != 0 && result.stderr.contains("no catalog yet"), "\(result.stderr)")
        try await f.cleanup()
    }
}

/// Runs the operator CLI against the fixture's stores and Redis.
private func optmazon(_ f: PrivacyFixture, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await ProductProcess.run("optmazon", arguments, environment: f.environment)
}
