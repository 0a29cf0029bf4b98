import Domain
import Foundation

/// Turns one seller's snapshots and history into explainable recommendations, alert candidates and
/// listing quality scores.
///
/// Pure and deterministic: no clock, no randomness, ids from a stable hash of rule, subject and day, and
/// every output list sorted, so analyzing the same input twice gives equal results.
public struct Analyzer: Sendable {
    public var config: AnalysisConfig

    public init(config: AnalysisConfig = .init()) {
        self.config = config
    }

    /// Analyzes `input` with the deterministic rule-based rewriter.
    public func analyze(_ input: AnalysisInput) -> AnalysisResult {
        var prepared = prepare(input)
        let rewriter = RuleBasedRewriter(config: config)
        let rewrites = prepared.requests.indices.map {
            rewriter.rewriteNow(prepared.requests[$0], rejectedReason: nil, words: prepared.requestWords[$0])
        }
        return finish(&prepared, rewrites: rewrites, input: input)
    }

    /// Analyzes `input`, sending the worst `maxExternalRewritesPerRun` listings to `rewriter` and rewriting
    /// the rest by rule. The rewriter does not throw, so neither does this.
    public func analyze(_ input: AnalysisInput, rewriter: some ListingRewriter) async -> AnalysisResult {
        var prepared = prepare(input)
        let local = RuleBasedRewriter(config: config)
        let external = Array(prepared.requests.prefix(max(0, config.maxExternalRewritesPerRun)))
        var rewrites: [ListingRewrite] = []
        // A few at a time: an endpoint is rarely happy with 20 parallel completions.
        var start = 0
        while start < external.count {
            let chunk = Array(external[start..<min(start + 4, external.count)])
            let answers = await withTaskGroup(of: (Int, ListingRewrite).self) { group in
                for (offset, request) in chunk.enumerated() {
                    group.addTask { (offset, await rewriter.rewrite(request)) }
                }
                var collected: [(Int, ListingRewrite)] = []
                for await answer in group { collected.append(answer) }
                return collected.sorted { $0.0 < $1.0 }.map(\.1)
            }
            rewrites += answers
            start += chunk.count
        }
        rewrites += prepared.requests.indices.dropFirst(external.count).map {
            local.rewriteNow(prepared.requests[$0], rejectedReason: nil, words: prepared.requestWords[$0])
        }
        return finish(&prepared, rewrites: rewrites, input: input)
    }

    struct Prepared {
        var recommendations: [Recommendation] = []
        var alerts: [Alert] = []
        var scores: [ListingQualityScore] = []
        /// Worst score first.
        var requests: [RewriteRequest] = []
        /// The words of each request's current content, index for index.
        var requestWords: [ContentWords] = []
    }

    /// Newest entry per key: latest day wins, ties broken by `tieBreak` so input order never matters.
    static func newest<T>(_ items: [T], key: (T) -> String, day: (T) -> Day, tieBreak: (T, T) -> Bool) -> [String: T] {
        var out: [String: T] = [:]
        for item in items {
            let k = key(item)
            if let existing = out[k] {
                let d1 = day(item), d0 = day(existing)
                if d1 > d0 || (d1 == d0 && tieBreak(item, existing)) { out[k] = item }
            } else {
                out[k] = item
            }
        }
        return out
    }

    func prepare(_ input: AnalysisInput) -> Prepared {
        let day = input.day
        var p = Prepared()
        let listings = Self.newest(input.listings, key: \.sku, day: \.day, tieBreak: { $0.title > $1.title })
        let previous = Self.newest(input.previousListings, key: \.sku, day: \.day, tieBreak: { $0.title > $1.title })
        let skus = listings.keys.sorted()
        var brandSet = Set<String>()
        for l in listings.values where !Text.squeeze(l.brand).isEmpty { brandSet.insert(Text.squeeze(l.brand)) }
        let ownBrands = brandSet.sorted()
        let competitorBrands = Array(Set(input.competitorBrands.map(Text.squeeze).filter { !$0.isEmpty })).sorted()
        let validator = ListingValidator(config: config)
        // Own and competitor brands as word runs: the same for every listing (`ListingValidator.brandPhrases`).
        var brandPhrases: [[String]] = []
        for b in ownBrands + competitorBrands {
            let w = Text.words(b)
            if !w.isEmpty, !brandPhrases.contains(w) { brandPhrases.append(w) }
        }

        // Family 1: listing quality.
        var violationsBySKU: [String: [ListingViolation]] = [:]
        var scoreBySKU: [String: Double] = [:]
        var wordsBySKU: [String: ContentWords] = [:]
        for sku in skus {
            let listing = listings[sku]!
            let context = ListingContext(ownBrands: ownBrands, competitorBrands: competitorBrands, productType: listing.productType)
            let content = ListingContent(listing)
            let words = ContentWords(content)
            wordsBySKU[sku] = words
            let violations = validator.validate(content, words: words, context: context, brands: brandPhrases)
            let (score, components) = validator.score(violations)
            violationsBySKU[sku] = violations
            scoreBySKU[sku] = score
            p.scores.append(ListingQualityScore(asin: listing.asin, sku: sku, score: score, components: components))
            for v in violations {
                p.recommendations.append(Recommendation(
                    id: StableID.make([v.ruleID, listing.asin, sku, v.location, day.rawValue]), day: day, ruleID: v.ruleID,
                    category: "listing", asin: listing.asin, sku: sku, subject: v.location, severity: v.severity,
                    summary: v.message, action: v.fix,
                    evidence: v.evidence + [Evidence("quality score", Fmt.num(score, 0) + "/100")],
                    confidence: Self.confidence(of: v.ruleID), expectedImpact: Self.impact(of: v)))
            }
            for issue in listing.issues where issue.severity.uppercased() == "ERROR"
                && !ChangeDetector.suppressionCodes.contains(issue.code.uppercased()) {
                let rule = "listing.amazon_issue"
                p.recommendations.append(Recommendation(
                    id: StableID.make([rule, listing.asin, sku, issue.code, day.rawValue]), day: day, ruleID: rule,
                    category: "listing", asin: listing.asin, sku: sku, subject: issue.code, severity: .high,
                    summary: "Amazon reports an error on \(sku): \(issue.message)", action: "fix the attribute Amazon names in issue \(issue.code)",
                    evidence: [Evidence("issue code", issue.code), Evidence("issue severity", issue.severity)],
                    confidence: 1, expectedImpact: "listing errors can make the offer unbuyable or unsearchable"))
            }
        }

        // Families 2 and 3: keyword gaps and SQP funnel.
        let primarySKU: [String: String] = {
            var m: [String: String] = [:]
            for sku in skus { let asin = listings[sku]!.asin; if m[asin] == nil { m[asin] = sku } }
            return m
        }()
        let sqpRules = SearchQueryRules(config: config, day: day, brandPhrases: brandPhrases)
        let funnels = QueryFunnel.aggregate(input.searchQueries, since: day.adding(days: -7 * config.sqpLookbackWeeks))
        var funnelsByASIN: [String: [QueryFunnel]] = [:]
        for f in funnels { funnelsByASIN[f.asin, default: []].append(f) }
        var gapsBySKU: [String: [KeywordGap]] = [:]
        for asin in funnelsByASIN.keys.sorted() {
            guard let sku = primarySKU[asin], let listing = listings[sku] else { continue }
            let mine = funnelsByASIN[asin]!
            let stems = wordsBySKU[sku]!.allStems
            let gaps = sqpRules.keywordGaps(funnels: mine, listing: listing, stems: stems)
            gapsBySKU[sku] = gaps
            for gap in gaps { p.recommendations.append(sqpRules.recommendation(for: gap)) }
            p.recommendations += sqpRules.funnelFindings(funnels: mine, listing: listing, stems: stems)
        }

        // Family 4: pricing.
        let offers = Self.newest(input.offers, key: { $0.sku + "\u{1F}" + $0.asin }, day: \.day,
                                 tieBreak: { ($0.ownPrice ?? 0) > ($1.ownPrice ?? 0) })
        let previousOffers = Self.newest(input.previousOffers, key: { $0.sku + "\u{1F}" + $0.asin }, day: \.day,
                                         tieBreak: { ($0.ownPrice ?? 0) > ($1.ownPrice ?? 0) })
        let pricing = PricingRules(config: config, day: day, settings: input.settings)
        for key in offers.keys.sorted() { p.recommendations += pricing.recommendations(for: offers[key]!) }

        // Family 5: advertising (and the ACoS spike alert).
        p.alerts += AdvertisingRules(config: config, day: day, settings: input.settings).run(input, appendingTo: &p.recommendations)

        // Family 6: change detection.
        let detector = ChangeDetector(config: config, day: day)
        var pricedFromOffers = Set<String>()
        for key in offers.keys.sorted() {
            guard let new = offers[key], let old = previousOffers[key], old.day < new.day || old != new else { continue }
            p.alerts += detector.offerChanges(new: new, old: old)
            if new.ownLandedPrice != nil, old.ownLandedPrice != nil { pricedFromOffers.insert(new.sku) }
        }
        for sku in skus {
            let new = listings[sku]!
            let old = previous[sku]
            p.alerts += detector.listingChanges(new: new, old: old)
            if let old, !pricedFromOffers.contains(sku), let alert = detector.listingPriceChange(new: new, old: old) {
                p.alerts.append(alert)
            }
        }
        p.alerts += detector.trafficAlerts(input.salesTraffic, skuByASIN: primarySKU)

        // Rewrite requests: listings that break rules or miss converting keywords, worst first.
        for sku in skus.sorted(by: { (scoreBySKU[$0]!, $0) < (scoreBySKU[$1]!, $1) }) {
            let listing = listings[sku]!
            let gaps = gapsBySKU[sku] ?? []
            guard scoreBySKU[sku]! < config.rewriteBelowScore || !gaps.isEmpty else { continue }
            p.requests.append(RewriteRequest(
                asin: listing.asin, sku: sku, brand: listing.brand, current: ListingContent(listing),
                context: ListingContext(ownBrands: ownBrands, competitorBrands: competitorBrands, productType: listing.productType),
                keywordGaps: gaps, violations: violationsBySKU[sku] ?? []))
            p.requestWords.append(wordsBySKU[sku]!)
        }
        return p
    }

    func finish(_ p: inout Prepared, rewrites: [ListingRewrite], input: AnalysisInput) -> AnalysisResult {
        let day = input.day
        var kept: [ListingRewrite] = []
        for r in rewrites where r.scoreAfter > r.scoreBefore || !r.keywordsAdded.isEmpty {
            kept.append(r)
            let rule = "listing.rewrite"
            var evidence = [Evidence("source", r.source), Evidence("score before", Fmt.num(r.scoreBefore, 0)),
                            Evidence("score after", Fmt.num(r.scoreAfter, 0)),
                            Evidence("keywords added", r.keywordsAdded.isEmpty ? "none" : r.keywordsAdded.joined(separator: " ")),
                            Evidence("rules still broken", String(r.remainingViolations.count)),
                            Evidence("title characters", String(r.content.title.count)),
                            Evidence("backend bytes", String(r.content.backendKeywords.utf8.count))]
            if let reason = r.rejectedReason { evidence.append(Evidence("external rewrite rejected", reason)) }
            let bullets = r.content.bullets.enumerated().map { "  \($0.offset + 1). \($0.element)" }.joined(separator: "\n")
            p.recommendations.append(Recommendation(
                id: StableID.make([rule, r.asin, r.sku, "content", day.rawValue]), day: day, ruleID: rule, category: "listing",
                asin: r.asin, sku: r.sku, subject: "rewrite", severity: r.scoreBefore < 70 ? .medium : .low,
                summary: "proposed rewrite of \(r.sku) scores \(Fmt.num(r.scoreAfter, 0)) (now \(Fmt.num(r.scoreBefore, 0)))"
                    + (r.keywordsAdded.isEmpty ? "" : " and adds \(r.keywordsAdded.count) missing keywords"),
                action: "title: \(r.content.title)\nbullets:\n\(bullets)\nbackend: \(r.content.backendKeywords)",
                evidence: evidence, confidence: r.source == "rules" ? 0.9 : 0.7,
                expectedImpact: "a compliant listing avoids suppression and indexes \(r.keywordsAdded.count) more converting words"))
        }
        var recommendations = p.recommendations
        p.recommendations = []
        Self.sortRecommendations(&recommendations)
        let alerts = p.alerts.sorted { a, b in
            if a.severity != b.severity { return a.severity < b.severity }
            return (a.asin, a.sku, a.kind, a.id) < (b.asin, b.sku, b.kind, b.id)
        }
        let scores = p.scores.sorted { ($0.score, $0.sku) < ($1.score, $1.sku) }
        return AnalysisResult(sellerID: input.sellerID, day: day, recommendations: recommendations, alerts: alerts,
                              qualityScores: scores, rewrites: kept.sorted { $0.sku < $1.sku })
    }

    static let categoryOrder = ["listing", "keywords", "sqp", "pricing", "ads"]

    /// Category, severity (worst first), ASIN, SKU, rule, subject, id: sorted on precomputed UTF-8 keys,
    /// since comparing five Strings per step made sorting 20,000 findings a visible cost. The keys live in
    /// one byte buffer and compare with `memcmp`, shorter first on a common prefix (as `lexicographicallyPrecedes`);
    /// the findings are then moved into place by swaps, never copied.
    static func sortRecommendations(_ recs: inout [Recommendation]) {
        guard recs.count > 1 else { return }
        var bytes: [UInt8] = []
        var bounds: [(start: Int, count: Int)] = []
        bounds.reserveCapacity(recs.count)
        let severityRank = Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0, UInt8($0.rank)) })
        recs.withUnsafeBufferPointer { buffer in
            for i in buffer.indices {
                let start = bytes.count
                func add(_ part: String) {
                    bytes.append(contentsOf: part.utf8)
                    bytes.append(0)
                }
                bytes.append(UInt8(categoryOrder.firstIndex(of: buffer[i].category) ?? categoryOrder.count))
                add(buffer[i].category)
                bytes.append(severityRank[buffer[i].severity]!)
                add(buffer[i].asin)
                add(buffer[i].sku)
                add(buffer[i].ruleID)
                add(buffer[i].subject)
                add(buffer[i].id)
                bounds.append((start, bytes.count - start))
            }
        }
        let order = bytes.withUnsafeBufferPointer { buffer -> [Int] in
            let base = buffer.baseAddress!
            return recs.indices.sorted { a, b in
                let ka = bounds[a], kb = bounds[b]
                let common = min(ka.count, kb.count)
                let c = memcmp(base + ka.start, base + kb.start, common)
                return c != 0 ? c < 0 : ka.count < kb.count
            }
        }
        // Position k takes the finding at order[k]: follow each cycle of the permutation with swaps.
        // (Swapping in the unsafe buffer moves elements; Array.swapAt copies and releases them.)
        var placed = [Bool](repeating: false, count: recs.count)
        recs.withUnsafeMutableBufferPointer { buffer in
            for start in buffer.indices where !placed[start] {
                var k = start
                while true {
                    placed[k] = true
                    let next = order[k]
                    if next == start { break }
                    buffer.swapAt(k, next)
                    k = next
                }
            }
        }
    }

    /// How sure a content rule is: measured limits are facts, word lists can misfire.
    static func confidence(of rule: String) -> Double {
        switch rule {
        case "listing.title.length", "listing.title.banned_chars", "listing.title.repeated_words", "listing.title.missing",
             "listing.backend.bytes", "listing.backend.asin", "listing.bullets.count", "listing.bullets.length",
             "listing.bullets.asin", "listing.bullets.empty", "listing.bullets.banned_symbols", "listing.description.length",
             "listing.description.html", "listing.backend.repeats", "listing.backend.duplicates_content",
             "listing.backend.punctuation", "listing.backend.empty", "listing.description.missing":
            return 1
        default:
            return 0.8
        }
    }

    static func impact(of v: ListingViolation) -> String {
        switch v.field {
        case .title: return "non-compliant titles may be rewritten by Amazon or suppressed from search (§2.1 [1][3][5])"
        case .bullets: return "Amazon may edit or remove non-compliant bullets (§2.1 [7][8]); complete bullets convert better"
        case .backend: return v.ruleID == "listing.backend.bytes"
            ? "terms past byte 249 are not indexed; prohibited terms risk suppression (§2.1 [14][16][17])"
            : "backend bytes spent on indexable new words widen search coverage (§2.1 [14][17])"
        case .description: return "description violations can suppress the listing; it is indexed even under A+ (§2.1 [6][13])"
        }
    }
}
