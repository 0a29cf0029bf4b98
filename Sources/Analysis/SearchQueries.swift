import Domain

/// Where a missing search query's words should go.
public enum KeywordPlacement: String, Codable, Sendable {
    case title, backend, bullets
}

/// A converting search query whose words are missing from the listing (recommendation family 2).
public struct KeywordGap: Codable, Hashable, Sendable {
    public var asin: String
    public var sku: String
    public var query: String
    /// Query words found in none of title, bullets and backend terms (singular and plural match).
    public var missingWords: [String]
    /// 1 = most purchases, then most volume.
    public var rank: Int
    /// SQP weeks the numbers were summed over.
    public var weeks: Int
    public var purchases: Int
    public var volume: Int
    public var purchaseShare: Double
    public var placement: KeywordPlacement
    /// UTF-8 bytes the missing words take in backend terms, a separating space each.
    public var bytesNeeded: Int
    /// Backend bytes still free after the better-ranked gaps placed there.
    public var backendBytesFree: Int
    /// Whether the missing words fit in the 249-byte backend budget.
    public var fitsBackend: Bool

    public init(asin: String, sku: String, query: String, missingWords: [String], rank: Int, weeks: Int, purchases: Int,
                volume: Int, purchaseShare: Double, placement: KeywordPlacement, bytesNeeded: Int,
                backendBytesFree: Int, fitsBackend: Bool) {
        self.asin = asin
        self.sku = sku
        self.query = query
        self.missingWords = missingWords
        self.rank = rank
        self.weeks = weeks
        self.purchases = purchases
        self.volume = volume
        self.purchaseShare = purchaseShare
        self.placement = placement
        self.bytesNeeded = bytesNeeded
        self.backendBytesFree = backendBytesFree
        self.fitsBackend = fitsBackend
    }
}

/// One (ASIN, query) funnel summed over the SQP lookback window.
struct QueryFunnel {
    var asin: String
    var query: String
    var words: [String]
    var weeks = 0
    var volume = 0
    var totalImpressions = 0, asinImpressions = 0
    var totalClicks = 0, asinClicks = 0
    var totalCartAdds = 0, asinCartAdds = 0
    var totalPurchases = 0, asinPurchases = 0
    var impressionShareSum = 0.0, clickShareSum = 0.0, cartShareSum = 0.0, purchaseShareSum = 0.0

    /// Shares from summed counts; the reported fractions (percentages normalized) when counts are absent.
    var impressionShare: Double { share(asinImpressions, totalImpressions, impressionShareSum) }
    var clickShare: Double { share(asinClicks, totalClicks, clickShareSum) }
    var cartAddShare: Double { share(asinCartAdds, totalCartAdds, cartShareSum) }
    var purchaseShare: Double { share(asinPurchases, totalPurchases, purchaseShareSum) }

    private func share(_ part: Int, _ whole: Int, _ reportedSum: Double) -> Double {
        if whole > 0 { return Double(part) / Double(whole) }
        return weeks > 0 ? reportedSum / Double(weeks) : 0
    }

    static func normalized(_ share: Double) -> Double {
        guard share.isFinite, share > 0 else { return 0 }
        return share > 1 ? share / 100 : share
    }

    /// Sums SQP rows from `since` on per ASIN and normalized query, in first-seen order.
    static func aggregate(_ rows: [SearchQueryRow], since: Day) -> [QueryFunnel] {
        // Keyed by ASIN and normalized query. (The pair compares as the joined `asin US query` key did:
        // a normalized query never holds the U+001F separator, so the split point is the same.)
        struct Key: Hashable { var asin: String, query: String }
        var index: [Key: Int] = [:]
        index.reserveCapacity(min(rows.count, 65_536))
        var funnels: [QueryFunnel] = []
        // Funnel by the row's exact ASIN and query bytes (-1: no words), so the weeks after the first cost
        // one lookup instead of normalizing the query again.
        var rowIndex: [ExactPair: Int] = [:]
        rowIndex.reserveCapacity(min(rows.count, 65_536))
        for row in rows where row.weekStart >= since {
            let exact = ExactPair(row.asin, row.query)
            let i: Int
            if let known = rowIndex[exact] {
                guard known >= 0 else { continue }
                i = known
            } else {
                let words = Text.words(row.query)
                guard !words.isEmpty else {
                    rowIndex[exact] = -1
                    continue
                }
                let query = words.joined(separator: " ")
                let key = Key(asin: row.asin, query: query)
                if let existing = index[key] {
                    i = existing
                } else {
                    i = funnels.count
                    index[key] = i
                    funnels.append(QueryFunnel(asin: row.asin, query: query, words: words))
                }
                rowIndex[exact] = i
            }
            funnels[i].weeks += 1
            funnels[i].volume += row.queryVolume
            funnels[i].totalImpressions += row.totalImpressions
            funnels[i].asinImpressions += row.asinImpressions
            funnels[i].totalClicks += row.totalClicks
            funnels[i].asinClicks += row.asinClicks
            funnels[i].totalCartAdds += row.totalCartAdds
            funnels[i].asinCartAdds += row.asinCartAdds
            funnels[i].totalPurchases += row.totalPurchases
            funnels[i].asinPurchases += row.asinPurchases
            funnels[i].impressionShareSum += normalized(row.impressionShare)
            funnels[i].clickShareSum += normalized(row.clickShare)
            funnels[i].cartShareSum += normalized(row.cartAddShare)
            funnels[i].purchaseShareSum += normalized(row.purchaseShare)
        }
        return funnels
    }

    func evidence() -> [Evidence] {
        [Evidence("query", query), Evidence("weeks", String(weeks)), Evidence("search volume", String(volume)),
         Evidence("impression share", Fmt.pct(impressionShare)), Evidence("click share", Fmt.pct(clickShare)),
         Evidence("cart add share", Fmt.pct(cartAddShare)), Evidence("purchase share", Fmt.pct(purchaseShare)),
         Evidence("ASIN clicks", String(asinClicks)), Evidence("ASIN purchases", String(asinPurchases))]
    }
}

/// Keyword gaps (family 2) and SQP funnel opportunities (family 3).
struct SearchQueryRules {
    let config: AnalysisConfig
    let day: Day
    let brandPhrases: [[String]]

    func isBranded(_ funnel: QueryFunnel) -> Bool {
        brandPhrases.contains { Text.contains(funnel.words, phrase: $0) }
    }

    /// The converting queries of one ASIN missing from its listing, ranked, with placement and byte budget.
    func keywordGaps(funnels: [QueryFunnel], listing: ListingSnapshot, stems: Set<String>) -> [KeywordGap] {
        let candidates = funnels
            .filter { $0.asinPurchases >= config.keywordGapMinPurchases && !isBranded($0) }
            .compactMap { f -> (QueryFunnel, [String])? in
                var missing: [String] = []
                for w in f.words where !Text.exemptWords.contains(w) && !stems.contains(Text.stem(w)) && !missing.contains(w) {
                    missing.append(w)
                }
                return missing.isEmpty ? nil : (f, missing)
            }
            .sorted { a, b in
                if a.0.asinPurchases != b.0.asinPurchases { return a.0.asinPurchases > b.0.asinPurchases }
                if a.0.volume != b.0.volume { return a.0.volume > b.0.volume }
                return a.0.query < b.0.query
            }
            .prefix(config.keywordGapMaxPerASIN)

        var backendFree = max(0, config.backendMaxBytes - listing.backendKeywords.utf8.count)
        var titleRoom = max(0, config.titleMaxCharacters - listing.title.count)
        var placed = Set<String>()
        var gaps: [KeywordGap] = []
        for (rank, (funnel, missing)) in candidates.enumerated() {
            let fresh = missing.filter { !placed.contains(Text.stem($0)) }
            let bytes = fresh.reduce(0) { $0 + $1.utf8.count + 1 }
            let chars = fresh.reduce(0) { $0 + $1.count + 1 }
            let fits = bytes <= backendFree
            let placement: KeywordPlacement
            if rank < 3, chars <= titleRoom, chars > 0 {
                placement = .title
                titleRoom -= chars
            } else if fits {
                placement = .backend
                backendFree -= bytes
            } else {
                placement = .bullets
            }
            for w in fresh { placed.insert(Text.stem(w)) }
            gaps.append(KeywordGap(asin: listing.asin, sku: listing.sku, query: funnel.query, missingWords: missing,
                                   rank: rank + 1, weeks: funnel.weeks, purchases: funnel.asinPurchases, volume: funnel.volume,
                                   purchaseShare: funnel.purchaseShare, placement: placement, bytesNeeded: bytes,
                                   backendBytesFree: placement == .backend ? backendFree + bytes : backendFree,
                                   fitsBackend: fits))
        }
        return gaps
    }

    func recommendation(for gap: KeywordGap) -> Recommendation {
        let whereText: String
        switch gap.placement {
        case .title: whereText = "add \"\(gap.missingWords.joined(separator: " "))\" to the title (room left within \(config.titleMaxCharacters) characters)"
        case .backend: whereText = "add \"\(gap.missingWords.joined(separator: " "))\" to the backend search terms (\(gap.bytesNeeded) of \(gap.backendBytesFree) free bytes)"
        case .bullets: whereText = "work \"\(gap.missingWords.joined(separator: " "))\" into a bullet: the backend budget has \(gap.backendBytesFree) bytes free, \(gap.bytesNeeded) needed"
        }
        return Recommendation(
            id: StableID.make(["keywords.gap", gap.asin, gap.sku, gap.query, day.rawValue]), day: day,
            ruleID: "keywords.gap", category: "keywords", asin: gap.asin, sku: gap.sku, subject: gap.query,
            severity: gap.rank <= 3 && gap.purchases >= 5 ? .medium : .low,
            summary: "converting query \"\(gap.query)\" (#\(gap.rank), \(gap.purchases) purchases) is missing from the listing: \(gap.missingWords.joined(separator: ", "))",
            action: whereText,
            evidence: [Evidence("query", gap.query), Evidence("rank", String(gap.rank)),
                       Evidence("ASIN purchases", String(gap.purchases)), Evidence("search volume", String(gap.volume)),
                       Evidence("purchase share", Fmt.pct(gap.purchaseShare)), Evidence("weeks", String(gap.weeks)),
                       Evidence("missing words", gap.missingWords.joined(separator: " ")),
                       Evidence("placement", gap.placement.rawValue), Evidence("bytes needed", String(gap.bytesNeeded)),
                       Evidence("backend bytes free", String(gap.backendBytesFree)),
                       Evidence("fits 249-byte budget", gap.fitsBackend ? "yes" : "no")],
            confidence: dataConfidence(Double(gap.purchases), half: 3),
            expectedImpact: "indexes the listing for a query that already sells (\(gap.purchases) purchases, \(gap.volume) searches); a listing ranks organically only for words it is indexed on")
    }

    /// Under-exposed, leaking and coverage-gap findings for one ASIN's funnels.
    func funnelFindings(funnels: [QueryFunnel], listing: ListingSnapshot, stems: Set<String>) -> [Recommendation] {
        var out: [Recommendation] = []
        for f in funnels where f.volume >= config.sqpMinQueryVolume && !isBranded(f) {
            let imp = f.impressionShare, click = f.clickShare, cart = f.cartAddShare, purchase = f.purchaseShare
            func rec(_ rule: String, _ severity: Severity, _ summary: String, _ action: String, _ confidence: Double,
                     _ impact: String, extra: [Evidence] = []) -> Recommendation {
                Recommendation(id: StableID.make([rule, listing.asin, listing.sku, f.query, day.rawValue]), day: day,
                               ruleID: rule, category: "sqp", asin: listing.asin, sku: listing.sku, subject: f.query,
                               severity: severity, summary: summary, action: action, evidence: f.evidence() + extra,
                               confidence: confidence, expectedImpact: impact)
            }
            if purchase > click, click > imp, f.asinPurchases >= config.sqpUnderExposedMinPurchases,
               purchase >= imp * config.sqpUnderExposedRatio {
                out.append(rec(
                    "sqp.under_exposed", .medium,
                    "\"\(f.query)\": purchase share \(Fmt.pct(purchase)) > click share \(Fmt.pct(click)) > impression share \(Fmt.pct(imp)); the listing wins when it is seen",
                    "raise bids on \"\(f.query)\" (add it as an exact keyword if not targeted) to buy more exposure",
                    dataConfidence(Double(f.asinPurchases), half: 5),
                    "more impressions on a query that converts \(Fmt.num(imp > 0 ? purchase / imp : 0, 1))× better than its exposure",
                    extra: [Evidence("purchase share ÷ impression share", Fmt.num(imp > 0 ? purchase / imp : 0, 2)),
                            Evidence("threshold ratio", Fmt.num(config.sqpUnderExposedRatio, 2))]))
            }
            if click >= config.sqpLeakMinClickShare, click >= purchase * config.sqpLeakRatio,
               f.asinClicks >= config.sqpLeakMinClicks {
                let stage = cart * config.sqpLeakRatio <= click ? "between click and cart add (price, images, badges)"
                    : "between cart add and purchase (price, delivery promise, reviews)"
                out.append(rec(
                    "sqp.leaking", .medium,
                    "\"\(f.query)\": click share \(Fmt.pct(click)) but purchase share \(Fmt.pct(purchase)); shoppers leave \(stage)",
                    "compare price, main image and review rating with the query's top converting offers",
                    dataConfidence(Double(f.asinClicks), half: 50),
                    "recovering half the gap would add about \(Fmt.num(Double(f.totalPurchases) * (click - purchase) / 2, 0)) purchases over \(f.weeks) weeks",
                    extra: [Evidence("click share ÷ purchase share", purchase > 0 ? Fmt.num(click / purchase, 2) : "inf"),
                            Evidence("threshold ratio", Fmt.num(config.sqpLeakRatio, 2))]))
            }
            if f.volume >= config.sqpHighVolume, imp <= config.sqpNearZeroImpressionShare {
                let content = f.words.filter { !Text.exemptWords.contains($0) }
                let covered = content.filter { stems.contains(Text.stem($0)) }
                let overlap = content.isEmpty ? 0 : Double(covered.count) / Double(content.count)
                if overlap >= config.sqpRelevanceMinOverlap {
                    let missing = content.filter { !stems.contains(Text.stem($0)) }
                    let action = missing.isEmpty
                        ? "the listing is indexed for every word: target \"\(f.query)\" in a low-bid exact campaign to get seen"
                        : "add \"\(missing.joined(separator: " "))\" to the listing and target \"\(f.query)\" in a low-bid exact campaign"
                    out.append(rec(
                        "sqp.coverage_gap", .medium,
                        "high-volume relevant query \"\(f.query)\" (\(f.volume) searches) with impression share \(Fmt.pct(imp))",
                        action, dataConfidence(Double(f.volume), half: Double(config.sqpHighVolume)),
                        "exposure on \(f.volume) searches the listing is nearly invisible for",
                        extra: [Evidence("word overlap with listing", Fmt.pct(overlap)),
                                Evidence("missing words", missing.joined(separator: " "))]))
                }
            }
        }
        return out
    }
}
