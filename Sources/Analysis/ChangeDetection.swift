import Domain

/// Readable before/after text for content-change alerts.
public enum TextDiff {
    /// Word-level diff in `git --word-diff` style: `[-removed-]{+added+}` around unchanged words.
    public static func words(_ old: String, _ new: String) -> String {
        let a = Text.whitespaceTokens(old).map(String.init)
        let b = Text.whitespaceTokens(new).map(String.init)
        // Longest common subsequence table; listing fields are a few hundred words at most.
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        if !a.isEmpty, !b.isEmpty {
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: b.count - 1, through: 0, by: -1) {
                    lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
        }
        var parts: [String] = []
        var removed: [String] = []
        var added: [String] = []
        func flush() {
            if !removed.isEmpty { parts.append("[-" + removed.joined(separator: " ") + "-]") }
            if !added.isEmpty { parts.append("{+" + added.joined(separator: " ") + "+}") }
            removed = []
            added = []
        }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                flush()
                parts.append(a[i])
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                added.append(b[j])
                j += 1
            } else {
                removed.append(a[i])
                i += 1
            }
        }
        flush()
        return parts.joined(separator: " ")
    }

    /// Per-bullet diff: one line for each bullet that changed, was added or was removed.
    public static func lines(_ old: [String], _ new: [String]) -> String {
        var out: [String] = []
        for index in 0..<max(old.count, new.count) {
            let before = index < old.count ? old[index] : nil
            let after = index < new.count ? new[index] : nil
            switch (before, after) {
            case let (b?, a?) where b != a: out.append("bullet \(index + 1): " + words(b, a))
            case let (nil, a?): out.append("bullet \(index + 1) added: {+" + a + "+}")
            case let (b?, nil): out.append("bullet \(index + 1) removed: [-" + b + "-]")
            default: continue
            }
        }
        return out.joined(separator: "\n")
    }
}

/// Alert candidates from comparing the newest snapshots with the previous ones (family 6, §2.5).
struct ChangeDetector {
    let config: AnalysisConfig
    let day: Day

    /// Amazon issue codes that mean the listing is suppressed or removed (§2.5 [84]).
    static let suppressionCodes: Set<String> = ["SEARCH_SUPPRESSED", "LISTING_SUPPRESSED", "ATTRIBUTE_SUPPRESSED", "CATALOG_ITEM_REMOVED"]

    func alert(_ kind: String, _ severity: Severity, asin: String, sku: String, subject: String, summary: String,
               diff: String = "", evidence: [Evidence]) -> Alert {
        Alert(id: StableID.make([kind, asin, sku, subject, day.rawValue]), day: day, kind: kind, severity: severity,
              asin: asin, sku: sku, summary: summary, diff: diff, evidence: evidence)
    }

    static func isSuppressed(_ l: ListingSnapshot) -> Bool {
        l.status.isEmpty || l.issues.contains { suppressionCodes.contains($0.code.uppercased()) }
    }

    func listingChanges(new: ListingSnapshot, old: ListingSnapshot?) -> [Alert] {
        var out: [Alert] = []
        var base: [Evidence] { [Evidence("status", new.status.joined(separator: ", ").isEmpty ? "none" : new.status.joined(separator: ", "))] }
        if Self.isSuppressed(new), old.map({ !Self.isSuppressed($0) }) ?? true {
            let codes = new.issues.filter { Self.suppressionCodes.contains($0.code.uppercased()) }.map(\.code)
            out.append(alert("listing.suppressed", .critical, asin: new.asin, sku: new.sku, subject: "status",
                             summary: "listing \(new.sku) is suppressed" + (codes.isEmpty ? " (no status)" : ": " + codes.joined(separator: ", ")),
                             evidence: base + [Evidence("previous status", old?.status.joined(separator: ", ") ?? "unknown"),
                                               Evidence("issues", codes.joined(separator: ", "))]))
        } else if let old, Set(old.status) != Set(new.status), !Self.isSuppressed(new) {
            out.append(alert("listing.status.changed", .medium, asin: new.asin, sku: new.sku, subject: "status",
                             summary: "listing \(new.sku) status changed from \(old.status.joined(separator: ", ")) to \(new.status.joined(separator: ", "))",
                             evidence: base + [Evidence("previous status", old.status.joined(separator: ", "))]))
        }
        guard let old else { return out }
        // Byte-identical text (the usual case) squeezes identically: compare squeezed forms only when it differs.
        func changed(_ a: String, _ b: String) -> Bool { !Text.sameBytes(a, b) && Text.squeeze(a) != Text.squeeze(b) }
        if changed(old.title, new.title) {
            out.append(alert("listing.title.changed", .medium, asin: new.asin, sku: new.sku, subject: "title",
                             summary: "title of \(new.sku) changed (by the seller, Amazon or another contributor)",
                             diff: "- " + old.title + "\n+ " + new.title + "\n~ " + TextDiff.words(old.title, new.title),
                             evidence: [Evidence("old characters", String(old.title.count)),
                                        Evidence("new characters", String(new.title.count))]))
        }
        if old.bullets.count != new.bullets.count
            || zip(old.bullets, new.bullets).contains(where: changed) {
            out.append(alert("listing.bullets.changed", .medium, asin: new.asin, sku: new.sku, subject: "bullets",
                             summary: "bullets of \(new.sku) changed",
                             diff: TextDiff.lines(old.bullets, new.bullets),
                             evidence: [Evidence("old bullets", String(old.bullets.count)),
                                        Evidence("new bullets", String(new.bullets.count))]))
        }
        if changed(old.backendKeywords, new.backendKeywords) {
            out.append(alert("listing.backend.changed", .medium, asin: new.asin, sku: new.sku, subject: "backend",
                             summary: "backend search terms of \(new.sku) changed",
                             diff: "- " + old.backendKeywords + "\n+ " + new.backendKeywords + "\n~ "
                                 + TextDiff.words(old.backendKeywords, new.backendKeywords),
                             evidence: [Evidence("old bytes", String(old.backendKeywords.utf8.count)),
                                        Evidence("new bytes", String(new.backendKeywords.utf8.count))]))
        }
        if changed(old.description, new.description) {
            out.append(alert("listing.description.changed", .low, asin: new.asin, sku: new.sku, subject: "description",
                             summary: "description of \(new.sku) changed",
                             diff: TextDiff.words(old.description, new.description),
                             evidence: [Evidence("old characters", String(old.description.count)),
                                        Evidence("new characters", String(new.description.count))]))
        }
        return out
    }

    /// Own price moves from the listing snapshots, used when no offer snapshots compare.
    func listingPriceChange(new: ListingSnapshot, old: ListingSnapshot) -> Alert? {
        guard let a = old.price, let b = new.price, a > 0 else { return nil }
        return ownPriceAlert(asin: new.asin, sku: new.sku, old: a, new: b, basis: "listing price")
    }

    func ownPriceAlert(asin: String, sku: String, old: Double, new: Double, basis: String) -> Alert? {
        let change = (new - old) / old * 100
        guard abs(change) >= config.ownPriceChangePercent else { return nil }
        return alert("price.own.changed", change <= -2 * config.ownPriceChangePercent ? .high : .medium,
                     asin: asin, sku: sku, subject: "own",
                     summary: "own \(basis) of \(sku) moved \(Fmt.num(change, 1))% from \(Fmt.money(old)) to \(Fmt.money(new))",
                     evidence: [Evidence("previous", Fmt.money(old)), Evidence("current", Fmt.money(new)),
                                Evidence("change", Fmt.num(change, 1) + "%"),
                                Evidence("threshold", Fmt.num(config.ownPriceChangePercent, 1) + "%"), Evidence("basis", basis)])
    }

    func offerChanges(new: OfferSnapshot, old: OfferSnapshot) -> [Alert] {
        var out: [Alert] = []
        let c = new.currency
        var base = [Evidence("own landed price", new.ownLandedPrice.map { Fmt.money($0, c) } ?? "no offer"),
                    Evidence("offers", "\(old.totalOfferCount) → \(new.totalOfferCount)")]
        if let bb = new.buyBoxPrice { base.append(Evidence("Buy Box landed price", Fmt.money(bb, c))) }
        if old.buyBoxWon, !new.buyBoxWon {
            let suppressed = new.buyBoxPrice == nil && new.buyBoxSellerID == nil
            out.append(alert(suppressed ? "buybox.suppressed" : "buybox.lost", .high, asin: new.asin, sku: new.sku, subject: "buybox",
                             summary: suppressed ? "Buy Box on \(new.asin) is suppressed: no offer holds it"
                                 : "Buy Box on \(new.asin) lost to \(new.buyBoxSellerID ?? "another seller")",
                             evidence: base + [Evidence("winner", new.buyBoxSellerID ?? "none")]))
        } else if !old.buyBoxWon, new.buyBoxWon {
            out.append(alert("buybox.won_back", .info, asin: new.asin, sku: new.sku, subject: "buybox",
                             summary: "Buy Box on \(new.asin) won back", evidence: base))
        } else if old.buyBoxPrice != nil, new.buyBoxPrice == nil, new.buyBoxSellerID == nil, !new.buyBoxWon {
            out.append(alert("buybox.suppressed", .high, asin: new.asin, sku: new.sku, subject: "buybox",
                             summary: "Buy Box on \(new.asin) is suppressed: no offer holds it", evidence: base))
        }
        let previous = Dictionary(old.competitors.map { ($0.sellerID, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        for offer in new.competitors where seen.insert(offer.sellerID).inserted {
            let evidence = base + [Evidence("seller", offer.sellerID), Evidence("fulfillment", offer.isFulfilledByAmazon ? "FBA" : "FBM"),
                                   Evidence("landed price", Fmt.money(offer.landedPrice, c)), Evidence("condition", offer.condition),
                                   Evidence("holds Buy Box", offer.isBuyBoxWinner ? "yes" : "no")]
            guard let before = previous[offer.sellerID] else {
                let undercuts = new.ownLandedPrice.map { offer.landedPrice < $0 } ?? false
                out.append(alert("offers.new_competitor", offer.isBuyBoxWinner || undercuts ? .high : .medium,
                                 asin: new.asin, sku: new.sku, subject: offer.sellerID,
                                 summary: "new offer on \(new.asin) by seller \(offer.sellerID) at \(Fmt.money(offer.landedPrice, c)) (possible hijacker)",
                                 evidence: evidence))
                continue
            }
            guard before.landedPrice > 0 else { continue }
            let change = (offer.landedPrice - before.landedPrice) / before.landedPrice * 100
            if abs(change) >= config.competitorPriceChangePercent {
                out.append(alert("price.competitor.changed", change < 0 ? .medium : .low, asin: new.asin, sku: new.sku,
                                 subject: offer.sellerID,
                                 summary: "seller \(offer.sellerID) moved its landed price on \(new.asin) \(Fmt.num(change, 1))% to \(Fmt.money(offer.landedPrice, c))",
                                 evidence: evidence + [Evidence("previous landed price", Fmt.money(before.landedPrice, c)),
                                                       Evidence("change", Fmt.num(change, 1) + "%"),
                                                       Evidence("threshold", Fmt.num(config.competitorPriceChangePercent, 1) + "%")]))
            }
        }
        if seen.isEmpty, new.totalOfferCount > old.totalOfferCount, new.competitors.isEmpty {
            out.append(alert("offers.new_competitor", .medium, asin: new.asin, sku: new.sku, subject: "count",
                             summary: "offer count on \(new.asin) rose from \(old.totalOfferCount) to \(new.totalOfferCount) (possible hijacker)",
                             evidence: base))
        }
        if let a = old.ownLandedPrice, let b = new.ownLandedPrice, a > 0,
           let alert = ownPriceAlert(asin: new.asin, sku: new.sku, old: a, new: b, basis: "landed price") {
            out.append(alert)
        }
        return out
    }

    struct TrafficWindow {
        var days = 0
        var pageViews = 0
        var sessions = 0
        var buyBoxWeighted = 0.0
        var buyBoxPlain = 0.0
        var unitSessionWeighted = 0.0

        mutating func add(_ row: SalesTrafficRow) {
            days += 1
            pageViews += row.pageViews
            sessions += row.sessions
            buyBoxWeighted += row.buyBoxPercentage * Double(row.pageViews)
            buyBoxPlain += row.buyBoxPercentage
            unitSessionWeighted += row.unitSessionPercentage * Double(row.sessions)
        }

        var buyBoxPercentage: Double { pageViews > 0 ? buyBoxWeighted / Double(pageViews) : (days > 0 ? buyBoxPlain / Double(days) : 0) }
        var unitSessionPercentage: Double { sessions > 0 ? unitSessionWeighted / Double(sessions) : 0 }
    }

    /// Buy Box percentage and unit session percentage falling sharply, recent days against the baseline before.
    func trafficAlerts(_ rows: [SalesTrafficRow], skuByASIN: [String: String]) -> [Alert] {
        let recentStart = day.adding(days: -config.trafficRecentDays + 1)
        let baselineStart = recentStart.adding(days: -config.trafficBaselineDays)
        // Windows per ASIN in slots (a window with no days has no rows); reports list an ASIN's days
        // together, so the previous row's ASIN usually answers without hashing.
        var slot: [String: Int] = [:]
        var asins: [String] = []
        var recent: [TrafficWindow] = []
        var baseline: [TrafficWindow] = []
        var lastASIN = "", lastSlot = -1
        for row in rows where row.day <= day && row.day >= baselineStart {
            let i: Int
            if lastSlot >= 0, row.asin == lastASIN {
                i = lastSlot
            } else {
                if let known = slot[row.asin] {
                    i = known
                } else {
                    i = asins.count
                    slot[row.asin] = i
                    asins.append(row.asin)
                    recent.append(TrafficWindow())
                    baseline.append(TrafficWindow())
                }
                lastASIN = row.asin
                lastSlot = i
            }
            if row.day >= recentStart { recent[i].add(row) } else { baseline[i].add(row) }
        }
        var out: [Alert] = []
        let windows = "\(recentStart.rawValue)…\(day.rawValue) vs \(baselineStart.rawValue)…\(recentStart.adding(days: -1).rawValue)"
        for i in asins.indices.filter({ recent[$0].days > 0 }).sorted(by: { asins[$0] < asins[$1] }) {
            let asin = asins[i], r = recent[i], b = baseline[i]
            guard r.days >= 3, b.days >= 7 else { continue }
            let sku = skuByASIN[asin] ?? ""
            let drop = b.buyBoxPercentage - r.buyBoxPercentage
            if drop >= config.buyBoxPercentageDropPoints {
                out.append(alert("buybox.percentage.drop", .high, asin: asin, sku: sku, subject: "buybox%",
                                 summary: "Buy Box percentage of \(asin) fell \(Fmt.num(drop, 1)) points to \(Fmt.num(r.buyBoxPercentage, 1))%",
                                 evidence: [Evidence("recent Buy Box %", Fmt.num(r.buyBoxPercentage, 1)),
                                            Evidence("baseline Buy Box %", Fmt.num(b.buyBoxPercentage, 1)),
                                            Evidence("drop (points)", Fmt.num(drop, 1)),
                                            Evidence("threshold (points)", Fmt.num(config.buyBoxPercentageDropPoints, 1)),
                                            Evidence("windows", windows)]))
            }
            let base = b.unitSessionPercentage
            if base > 0, r.sessions >= config.unitSessionMinSessions {
                let relative = (base - r.unitSessionPercentage) / base * 100
                if relative >= config.unitSessionDropPercent {
                    out.append(alert("conversion.drop", .medium, asin: asin, sku: sku, subject: "unit-session%",
                                     summary: "unit session percentage of \(asin) fell \(Fmt.num(relative, 0))% to \(Fmt.num(r.unitSessionPercentage, 1))%",
                                     evidence: [Evidence("recent unit session %", Fmt.num(r.unitSessionPercentage, 2)),
                                                Evidence("baseline unit session %", Fmt.num(base, 2)),
                                                Evidence("relative drop", Fmt.num(relative, 1) + "%"),
                                                Evidence("threshold", Fmt.num(config.unitSessionDropPercent, 1) + "%"),
                                                Evidence("recent sessions", String(r.sessions)), Evidence("windows", windows)]))
                }
            }
        }
        return out
    }
}
