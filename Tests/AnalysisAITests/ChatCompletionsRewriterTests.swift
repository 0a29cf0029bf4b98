import Analysis
import AnalysisAI
import Domain
import Foundation
import Testing

/// A one-listing seller whose converting query "glass bottle with sleeve" is missing the word "sleeve".
enum AISeller {
    static let day = Day(rawValue: "2025-06-30")!
    static let secrets = ["SKU-AI-1", "B0AITEST01", "A1AISELLER", "19.99", "Bottles exact", "test-key"]

    static func input() -> AnalysisInput {
        let listing = ListingSnapshot(
            day: day, marketplaceID: "ATVPDKIKX0DER", sku: "SKU-AI-1", asin: "B0AITEST01",
            title: "Acme Glass Water Bottle 20 oz",
            bullets: ["Borosilicate glass holds 20 ounces.", "The screw lid seals tight.", "Wide mouth for ice and fruit.",
                      "Dishwasher safe body and lid.", "Fits most cup holders."],
            description: "A glass bottle for every day.", backendKeywords: "carafe decanter", brand: "Acme",
            status: ["BUYABLE"], price: 19.99)
        let start = day.adding(days: -7 - (day.weekday - 1))
        let query = SearchQueryRow(
            weekStart: start, weekEnd: start.adding(days: 6), marketplaceID: "ATVPDKIKX0DER", asin: "B0AITEST01",
            query: "glass bottle with sleeve", queryScore: 1, queryVolume: 2_000, totalImpressions: 40_000,
            asinImpressions: 4_000, impressionShare: 0.1, totalClicks: 1_000, asinClicks: 100, clickShare: 0.1,
            totalCartAdds: 400, asinCartAdds: 40, cartAddShare: 0.1, totalPurchases: 100, asinPurchases: 10,
            purchaseShare: 0.1)
        return AnalysisInput(
            sellerID: SellerID(rawValue: "A1AISELLER")!, settings: SellerSettings(), day: day, listings: [listing],
            searchQueries: [query],
            campaigns: [AdCampaign(day: day, campaignID: "C1", name: "Bottles exact", state: "ENABLED",
                                   targetingType: "MANUAL", dailyBudget: 20)])
    }

    static func rewriter(_ base: String, mode: String, timeout: Duration = .seconds(10)) -> ChatCompletionsRewriter {
        ChatCompletionsRewriter(config: ChatCompletionsConfig(endpoint: base + "/" + mode, model: "stub-model",
                                                              apiKey: "test-key", timeout: timeout))
    }
}

@Suite("AI rewrite over a local chat-completions stub")
struct ChatCompletionsRewriterTests {
    @Test("a compliant answer is used, and only listing content and keyword aggregates are sent")
    func acceptedAnswer() async throws {
        let received = ReceivedRequests()
        let result = try await StubEndpoint.run(recording: received) { base in
            await Analyzer().analyze(AISeller.input(), rewriter: AISeller.rewriter(base, mode: "ok"))
        }
        let rewrite = try #require(result.rewrites.first)
        #expect(rewrite.source == "ai:stub-model")
        #expect(rewrite.rejectedReason == nil)
        #expect(rewrite.content.title == "Acme Glass Water Bottle 20 oz with Silicone Sleeve")
        #expect(rewrite.keywordsAdded == ["sleeve"])
        #expect(result.recommendations(rule: "listing.rewrite").first?.evidence.contains(Evidence("source", "ai:stub-model")) == true)

        let bodies = await received.bodies
        #expect(bodies.count == 1)
        let body = try #require(bodies.first)
        #expect(body.contains("Acme Glass Water Bottle 20 oz"))
        #expect(body.contains("glass bottle with sleeve"))
        for secret in AISeller.secrets {
            #expect(!body.contains(secret), "the prompt must not carry \(secret)")
        }
        #expect(await received.authorizations == ["Bearer test-key"])
    }

    @Test("an answer wrapped in a code fence is still read")
    func fencedAnswer() async throws {
        let rewrite = try await StubEndpoint.run(recording: ReceivedRequests()) { base in
            await Analyzer().analyze(AISeller.input(), rewriter: AISeller.rewriter(base, mode: "fenced")).rewrites.first
        }
        #expect(rewrite?.source == "ai:stub-model")
    }

    @Test("refusals, malformed and non-compliant answers, HTTP errors fall back to the rule-based rewrite with the reason",
          arguments: [("refuse", "AI rewrite refused: I can't help with that."),
                      ("filtered", "AI rewrite refused: content filter"),
                      ("malformed", "AI rewrite answer malformed: content is not {title, bullets, backendKeywords} JSON"),
                      ("noncompliant", "AI rewrite rejected: listing.title.banned_chars (title)"),
                      ("error", "AI rewrite endpoint answered HTTP 500")])
    func fallbacks(mode: String, reason: String) async throws {
        let result = try await StubEndpoint.run(recording: ReceivedRequests()) { base in
            await Analyzer().analyze(AISeller.input(), rewriter: AISeller.rewriter(base, mode: mode))
        }
        let rewrite = try #require(result.rewrites.first)
        #expect(rewrite.source == "rules")
        let recorded = try #require(rewrite.rejectedReason)
        #expect(recorded.hasPrefix(reason), "\(recorded)")
        #expect(!recorded.contains("test-key"))
        #expect(rewrite.keywordsAdded == ["sleeve"], "the fallback still works the gap in")
        let rec = try #require(result.recommendations(rule: "listing.rewrite").first)
        #expect(rec.evidence.contains { $0.name == "external rewrite rejected" && $0.value == recorded })
    }

    @Test("a non-compliant answer is rejected with every broken rule named")
    func nonCompliantReasons() async throws {
        let outcome: Result<ListingContent, AIRewriteError> = try await StubEndpoint.run(recording: ReceivedRequests()) { base in
            let request = RewriteRequest(asin: "B0AITEST01", sku: "SKU-AI-1", brand: "Acme",
                                         current: ListingContent(title: "Acme Glass Water Bottle 20 oz", bullets: [],
                                                                 backendKeywords: ""),
                                         context: ListingContext(ownBrands: ["Acme"]), keywordGaps: [], violations: [])
            do throws(AIRewriteError) {
                return .success(try await AISeller.rewriter(base, mode: "noncompliant").proposal(for: request))
            } catch {
                return .failure(error)
            }
        }
        guard case let .failure(.nonCompliant(reasons)) = outcome else {
            Issue.record("expected a non-compliant rejection, got \(outcome)")
            return
        }
        let rules = reasons.compactMap { $0.split(separator: " ").first.map(String.init) }
        for rule in ["listing.title.banned_chars", "listing.title.promotional", "listing.bullets.count",
                     "listing.bullets.banned_symbols", "listing.backend.brand", "listing.backend.subjective"] {
            #expect(rules.contains(rule), "\(rule) missing from \(reasons)")
        }
    }

    @Test("a slow endpoint times out and the job still gets the rule-based rewrite")
    func timeout() async throws {
        let rewrite = try await StubEndpoint.run(recording: ReceivedRequests()) { base in
            await Analyzer().analyze(AISeller.input(), rewriter: AISeller.rewriter(base, mode: "slow", timeout: .milliseconds(300)))
                .rewrites.first
        }
        #expect(rewrite?.source == "rules")
        #expect(rewrite?.rejectedReason == "AI rewrite timed out after 0.3 s")
    }

    @Test("an unreachable endpoint is a transport failure, not a crash")
    func unreachable() async throws {
        let rewriter = ChatCompletionsRewriter(config: ChatCompletionsConfig(endpoint: "http://127.0.0.1:1/v1", model: "m",
                                                                             apiKey: "test-key", timeout: .seconds(5)))
        let rewrite = await Analyzer().analyze(AISeller.input(), rewriter: rewriter).rewrites.first
        #expect(rewrite?.source == "rules")
        #expect(rewrite?.rejectedReason?.hasPrefix("AI rewrite request failed: ") == true)
        #expect(rewrite?.rejectedReason?.contains("test-key") == false)
    }

    @Test("configuration comes from the environment and never prints the key")
    func configuration() throws {
        #expect(ChatCompletionsConfig.fromEnvironment([:]) == nil)
        #expect(ChatCompletionsConfig.fromEnvironment(["OPTMAZON_AI_URL": "http://127.0.0.1:9/v1"]) == nil)
        let config = try #require(ChatCompletionsConfig.fromEnvironment([
            "OPTMAZON_AI_URL": "http://127.0.0.1:9/v1/", "OPTMAZON_AI_MODEL": "m1", "OPTMAZON_AI_API_KEY": "sk-secret",
            "OPTMAZON_AI_TIMEOUT_SECONDS": "2.5",
        ]))
        #expect(config.completionsURL == "http://127.0.0.1:9/v1/chat/completions")
        #expect(config.timeout == .milliseconds(2_500))
        #expect(!config.description.contains("sk-secret"))
        #expect(!String(describing: config).contains("sk-secret"))
        let full = ChatCompletionsConfig(endpoint: "http://127.0.0.1:9/v1/chat/completions", model: "m", apiKey: "")
        #expect(full.completionsURL == "http://127.0.0.1:9/v1/chat/completions")
    }
}

extension AnalysisResult {
    func recommendations(rule: String) -> [Recommendation] { recommendations.filter { $0.ruleID == rule } }
}
