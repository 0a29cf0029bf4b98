import Domain

/// The bid formula and its sparse-data smoothing (§2.3), public so callers and tests can check the numbers.
public enum BidMath {
    /// Beta-posterior conversion rate `(orders + α) / (clicks + α + β)` with `α = prior × strength`,
    /// `β = (1 − prior) × strength` (§2.3 [30][45]). With zero clicks it is the prior itself.
    public static func smoothedConversionRate(orders: Int, clicks: Int, priorRate: Double, strength: Double) -> Double {
        guard clicks > 0 || orders > 0 else { return priorRate }
        let alpha = priorRate * strength
        let beta = (1 - priorRate) * strength
        let denominator = Double(clicks) + alpha + beta
        guard denominator > 0 else { return priorRate }
        return (Double(orders) + alpha) / denominator
    }

    /// Average order value pulled towards the parent's by `weight` pseudo-orders.
    public static func smoothedOrderValue(sales: Double, orders: Int, priorValue: Double, weight: Double) -> Double {
        let denominator = Double(orders) + weight
        guard denominator > 0 else { return priorValue }
        return (sales + priorValue * weight) / denominator
    }

    /// Target bid = target ACoS × conversion rate × average order value (§2.3 [29][31]); ACoS in percent.
    public static func targetBid(targetACoSPercent: Double, conversionRate: Double, orderValue: Double) -> Double {
        targetACoSPercent / 100 * conversionRate * orderValue
    }

    /// Clicks needed before judging: `multiplier × 100 ÷ CVR%`, never fewer than `minimum` (§2.3 [32]).
    public static func clickThreshold(conversionRate: Double, multiplier: Double, minimum: Int) -> Int {
        guard conversionRate > 0 else { return Int.max }
        return max(minimum, Int((multiplier / conversionRate).rounded(.up)))
    }

    /// `current` moved towards `target` by at most the per-run caps, then clamped to [minBid, maxBid], in cents.
    public static func cappedBid(current: Double, target: Double, maxIncreasePercent: Double, maxDecreasePercent: Double,
                                 minBid: Double, maxBid: Double) -> Double {
        let stepped = min(max(target, current * (1 - maxDecreasePercent / 100)), current * (1 + maxIncreasePercent / 100))
        let clamped = min(max(stepped, minBid), maxBid)
        return (clamped * 100).rounded() / 100
    }
}

/// Summed ad performance.
struct AdStats {
    var impressions = 0
    var clicks = 0
    var cost = 0.0
    var orders = 0
    var sales = 0.0

    mutating func add(impressions: Int, clicks: Int, cost: Double, orders: Int, sales: Double) {
        self.impressions += impressions
        self.clicks += clicks
        self.cost += cost
        self.orders += orders
        self.sales += sales
    }

    mutating func add(_ other: AdStats) {
        add(impressions: other.impressions, clicks: other.clicks, cost: other.cost, orders: other.orders, sales: other.sales)
    }

    func minus(_ other: AdStats) -> AdStats {
        AdStats(impressions: impressions - other.impressions, clicks: clicks - other.clicks, cost: cost - other.cost,
                orders: orders - other.orders, sales: sales - other.sales)
    }

    /// ACoS in percent; nil without sales.
    var acos: Double? { sales > 0 ? cost / sales * 100 : nil }
}

/// Bids, negatives, harvesting (family 5) and the ACoS-spike alert, on settled days only.
struct AdvertisingRules {
    let config: AnalysisConfig
    let day: Day
    let settings: SellerSettings

    /// First day ignored as unsettled: rows on or after it are still being restated (§2.3 [47]).
    var unsettledFrom: Day { day.adding(days: -config.unsettledDays) }

    struct Prior {
        var level: String
        var rate: Double
        var orderValue: Double
    }

    /// Appends the family's recommendations to `recs` (in place: copying ten thousand findings into the
    /// caller's list was a visible cost) and returns its alerts.
    func run(_ input: AnalysisInput, appendingTo recs: inout [Recommendation]) -> [Alert] {
        let end = unsettledFrom
        let start = end.adding(days: -config.adsLookbackDays)
        let recentStart = end.adding(days: -config.acosRecentDays)
        let baselineStart = recentStart.adding(days: -config.acosBaselineDays)

        var campaigns: [String: AdCampaign] = [:]
        for c in input.campaigns where campaigns[c.campaignID].map({ c.day >= $0.day }) ?? true { campaigns[c.campaignID] = c }
        var groups: [String: AdGroup] = [:]
        for g in input.adGroups where groups[g.adGroupID].map({ g.day >= $0.day }) ?? true { groups[g.adGroupID] = g }
        var targets: [String: AdTarget] = [:]
        for t in input.targets where targets[t.targetID].map({ t.day >= $0.day }) ?? true { targets[t.targetID] = t }

        // Rows are summed per target (or per campaign for campaign-level rows) in slots, and ad group and
        // campaign totals are derived afterwards.
        struct Sums {
            var campaignID: String
            var adGroupID: String
            var window = AdStats(), recent = AdStats(), baseline = AdStats()
        }
        var slot: [String: Int] = [:]
        var sums: [Sums] = []
        var campaignSlot: [String: Int] = [:]
        var campaignSums: [Sums] = []
        let endN = end.ordinal, startN = start.ordinal, recentN = recentStart.ordinal, baselineN = baselineStart.ordinal
        let earliestN = min(startN, baselineN)
        // Reports list a target's days together, so the previous row's target usually answers without hashing.
        // Rows are read in place through the buffer: copying each row retained and released its four strings.
        var lastTargetID = "", lastTargetSlot = -1
        input.adMetrics.withUnsafeBufferPointer { rows in
            for k in rows.indices {
                let dayN = rows[k].day.ordinal
                guard dayN < endN, dayN >= earliestN else { continue }
                let row = UnsafePointer(rows.baseAddress! + k)
                let s = AdStats(impressions: row.pointee.impressions, clicks: row.pointee.clicks, cost: row.pointee.cost,
                                orders: row.pointee.purchases, sales: row.pointee.sales)
                let inWindow = dayN >= startN, inRecent = dayN >= recentN, inBaseline = !inRecent && dayN >= baselineN
                if row.pointee.targetID.isEmpty {
                    let i: Int
                    if let known = campaignSlot[row.pointee.campaignID] { i = known } else {
                        i = campaignSums.count
                        campaignSlot[row.pointee.campaignID] = i
                        campaignSums.append(Sums(campaignID: row.pointee.campaignID, adGroupID: ""))
                    }
                    if inWindow { campaignSums[i].window.add(s) }
                    if inRecent { campaignSums[i].recent.add(s) } else if inBaseline { campaignSums[i].baseline.add(s) }
                    continue
                }
                let i: Int
                if lastTargetSlot >= 0, row.pointee.targetID == lastTargetID {
                    i = lastTargetSlot
                } else {
                    if let known = slot[row.pointee.targetID] { i = known } else {
                        i = sums.count
                        slot[row.pointee.targetID] = i
                        sums.append(Sums(campaignID: row.pointee.campaignID, adGroupID: row.pointee.adGroupID))
                    }
                    lastTargetID = row.pointee.targetID
                    lastTargetSlot = i
                }
                if inWindow { sums[i].window.add(s) }
                if inRecent { sums[i].recent.add(s) } else if inBaseline { sums[i].baseline.add(s) }
            }
        }
        var byTarget: [String: AdStats] = [:]
        var byGroup: [String: AdStats] = [:]
        var byCampaignFromTargets: [String: AdStats] = [:]
        var byCampaignRows: [String: AdStats] = [:]
        var recent: [String: AdStats] = [:], recentFromTargets: [String: AdStats] = [:]
        var baseline: [String: AdStats] = [:], baselineFromTargets: [String: AdStats] = [:]
        for targetID in slot.keys.sorted() {
            let t = sums[slot[targetID]!]
            byTarget[targetID] = t.window
            byGroup[t.adGroupID, default: AdStats()].add(t.window)
            byCampaignFromTargets[t.campaignID, default: AdStats()].add(t.window)
            recentFromTargets[t.campaignID, default: AdStats()].add(t.recent)
            baselineFromTargets[t.campaignID, default: AdStats()].add(t.baseline)
        }
        for c in campaignSums {
            byCampaignRows[c.campaignID] = c.window
            recent[c.campaignID] = c.recent
            baseline[c.campaignID] = c.baseline
        }
        var byCampaign = byCampaignFromTargets
        for (id, s) in byCampaignRows { byCampaign[id] = s }
        var account = AdStats()
        for id in byCampaign.keys.sorted() { account.add(byCampaign[id]!) }

        func prior(excluding own: AdStats, group: String, campaign: String) -> Prior? {
            func level(_ name: String, _ stats: AdStats?) -> Prior? {
                guard let stats else { return nil }
                let parent = stats.minus(own)
                guard parent.orders >= config.priorMinOrders, parent.clicks > 0, parent.orders > 0 else { return nil }
                return Prior(level: name, rate: Double(parent.orders) / Double(parent.clicks),
                             orderValue: parent.sales / Double(parent.orders))
            }
            return level("ad group", byGroup[group]) ?? level("campaign", byCampaign[campaign]) ?? level("account", account)
        }

        func enabled(_ state: String) -> Bool { state == "ENABLED" || state == "enabled" || state.lowercased() == "enabled" }
        let window = "\(start.rawValue) to \(end.adding(days: -1).rawValue)"

        // Bids.
        for target in targets.values where target.kind != .negativeKeyword && enabled(target.state) {
            guard let group = groups[target.adGroupID], enabled(group.state),
                  let campaign = campaigns[target.campaignID], enabled(campaign.state) else { continue }
            let current = target.bid ?? group.defaultBid
            guard current > 0 else { continue }
            let own = byTarget[target.targetID] ?? AdStats()
            if let rec = bidRecommendation(target: target, group: group, campaign: campaign, current: current, own: own,
                                           prior: prior(excluding: own, group: group.adGroupID, campaign: campaign.campaignID),
                                           window: window) {
                recs.append(rec)
            }
        }

        // Search terms: negatives and harvesting.
        // Rows are summed into slots per campaign, ad group and normalized term; stats live in arrays by slot.
        struct TermKey: Hashable { var campaign: String, group: String, term: String }
        var termSlot: [TermKey: Int] = [:]
        var termOrder: [TermKey] = []
        var termStatsList: [AdStats] = []
        var termOnlyExact: [Bool] = []
        var normalizedTerms: [String: String] = [:]
        // Slot by the row's own campaign, ad group and unnormalized term (-1: normalizes to nothing), so a
        // repeated row costs one lookup instead of normalizing the term and hashing the normalized key.
        var rawSlot: [TermKey: Int] = [:]
        // Reports list an ad group's rows together: the terms seen since the ad group last changed answer
        // most rows by a short scan, before any hashing.
        var runCampaign = "", runGroup = ""
        var runTerms: [(term: String, slot: Int)] = []
        // Rows are read in place; a row is copied only once it falls inside the window.
        input.searchTerms.withUnsafeBufferPointer { rows in
            for k in rows.indices {
                let dayN = rows[k].day.ordinal
                guard dayN < endN, dayN >= startN else { continue }
                let row = UnsafePointer(rows.baseAddress! + k).pointee
                if row.adGroupID != runGroup || row.campaignID != runCampaign {
                    runCampaign = row.campaignID
                    runGroup = row.adGroupID
                    runTerms.removeAll(keepingCapacity: true)
                }
                let i: Int
                if let run = runTerms.first(where: { $0.term == row.searchTerm }) {
                    guard run.slot >= 0 else { continue }
                    i = run.slot
                } else if let known = rawSlot[TermKey(campaign: row.campaignID, group: row.adGroupID, term: row.searchTerm)] {
                    if runTerms.count < 16 { runTerms.append((row.searchTerm, known)) }
                    guard known >= 0 else { continue }
                    i = known
                } else {
                    let raw = TermKey(campaign: row.campaignID, group: row.adGroupID, term: row.searchTerm)
                    let term: String
                    if let known = normalizedTerms[row.searchTerm] {
                        term = known
                    } else {
                        term = Text.words(row.searchTerm).joined(separator: " ")
                        normalizedTerms[row.searchTerm] = term
                    }
                    guard !term.isEmpty else {
                        rawSlot[raw] = -1
                        if runTerms.count < 16 { runTerms.append((row.searchTerm, -1)) }
                        continue
                    }
                    let key = TermKey(campaign: row.campaignID, group: row.adGroupID, term: term)
                    if let known = termSlot[key] {
                        i = known
                    } else {
                        i = termOrder.count
                        termSlot[key] = i
                        termOrder.append(key)
                        termStatsList.append(AdStats())
                        termOnlyExact.append(true)
                    }
                    rawSlot[raw] = i
                    if runTerms.count < 16 { runTerms.append((row.searchTerm, i)) }
                }
                termStatsList[i].add(impressions: row.impressions, clicks: row.clicks, cost: row.cost,
                                     orders: row.purchases, sales: row.sales)
                if termOnlyExact[i], row.matchType != "EXACT", row.matchType.uppercased() != "EXACT" { termOnlyExact[i] = false }
            }
        }
        var negatives = Set<String>()
        var exactKeywords = Set<String>()
        var exactInGroup = Set<String>()
        for t in targets.values {
            let text = Text.words(t.text).joined(separator: " ")
            if t.kind == .negativeKeyword {
                // Campaign-level negatives (no ad group) cover every ad group of the campaign.
                negatives.insert(t.adGroupID.isEmpty ? "campaign:" + t.campaignID + "\u{1F}" + text : t.adGroupID + "\u{1F}" + text)
            }
            if t.kind == .keyword, t.matchType.uppercased() == "EXACT" {
                exactKeywords.insert(text)
                exactInGroup.insert(t.adGroupID + "\u{1F}" + text)
            }
        }
        for (slot, key) in termOrder.enumerated() {
            let s = termStatsList[slot]
            let groupName = groups[key.group]?.name ?? key.group
            let campaignName = campaigns[key.campaign]?.name ?? key.campaign
            let isProduct = Text.isASIN(key.term)
            let parentPrior = prior(excluding: AdStats(), group: key.group, campaign: key.campaign)
            func baseEvidence() -> [Evidence] {
                [Evidence("search term", key.term), Evidence("campaign", campaignName), Evidence("ad group", groupName),
                 Evidence("clicks", String(s.clicks)), Evidence("orders", String(s.orders)),
                 Evidence("spend", Fmt.money(s.cost)), Evidence("sales", Fmt.money(s.sales)),
                 Evidence("window", window), Evidence("unsettled days ignored", String(config.unsettledDays))]
            }
            if s.orders == 0 {
                let minClicks = isProduct ? config.negativeProductMinClicks : config.negativeMinClicks
                guard s.clicks >= minClicks, s.cost >= config.negativeMinSpend,
                      !negatives.contains(key.group + "\u{1F}" + key.term),
                      !negatives.contains("campaign:" + key.campaign + "\u{1F}" + key.term),
                      !exactInGroup.contains(key.group + "\u{1F}" + key.term) else { continue }
                let rate = parentPrior?.rate ?? 0
                let chance = rate > 0 ? pow1m(rate, s.clicks) : 1
                var evidence = baseEvidence()
                evidence += [Evidence("click threshold", String(minClicks)), Evidence("spend threshold", Fmt.money(config.negativeMinSpend)),
                             Evidence("parent conversion rate", parentPrior.map { Fmt.pct($0.rate) + " (" + $0.level + ")" } ?? "none"),
                             Evidence("chance of 0 orders at parent rate", Fmt.pct(chance))]
                let rule = "ads.negative.candidate"
                recs.append(Recommendation(
                    id: StableID.make([rule, key.campaign, key.group, key.term, day.rawValue]), day: day, ruleID: rule,
                    category: "ads", asin: "", sku: "", subject: key.term,
                    severity: s.cost >= 3 * config.negativeMinSpend ? .high : .medium,
                    summary: "search term \"\(key.term)\" spent \(Fmt.money(s.cost)) on \(s.clicks) clicks with no order",
                    action: isProduct ? "add a negative product target asin=\"\(key.term.uppercased())\" to ad group \(groupName) (campaign \(campaignName))"
                        : "add NEGATIVE_EXACT \"\(key.term)\" to ad group \(groupName) (campaign \(campaignName))",
                    evidence: evidence, confidence: rate > 0 ? ((1 - chance) * 100).rounded() / 100 : 0.5,
                    expectedImpact: "saves about \(Fmt.money(s.cost / Double(config.adsLookbackDays) * 30)) a month of non-converting spend"))
            } else if s.orders >= config.harvestMinOrders, s.clicks >= config.harvestMinClicks, let acos = s.acos,
                      acos < config.harvestMaxACoSPercent, !exactKeywords.contains(key.term),
                      !termOnlyExact[slot] {
                let p = parentPrior ?? Prior(level: "search term", rate: Double(s.orders) / Double(max(s.clicks, 1)),
                                             orderValue: s.sales / Double(s.orders))
                let cvr = BidMath.smoothedConversionRate(orders: s.orders, clicks: s.clicks, priorRate: p.rate,
                                                         strength: config.priorStrengthClicks)
                let aov = BidMath.smoothedOrderValue(sales: s.sales, orders: s.orders, priorValue: p.orderValue,
                                                     weight: config.aovPriorOrders)
                let raw = BidMath.targetBid(targetACoSPercent: settings.targetACoS, conversionRate: cvr, orderValue: aov)
                let bid = (min(max(raw, settings.minBid), settings.maxBid) * 100).rounded() / 100
                var evidence = baseEvidence()
                evidence += [Evidence("ACoS", Fmt.num(acos, 1) + "%"), Evidence("harvest ACoS limit", Fmt.num(config.harvestMaxACoSPercent, 1) + "%"),
                             Evidence("smoothed conversion rate", Fmt.pct(cvr)), Evidence("smoothed order value", Fmt.money(aov)),
                             Evidence("target ACoS", Fmt.num(settings.targetACoS, 1) + "%"), Evidence("starting bid", Fmt.money(bid))]
                let rule = "ads.harvest.exact"
                let what = isProduct ? "a product target asin=\"\(key.term.uppercased())\"" : "EXACT keyword \"\(key.term)\""
                let negative = isProduct ? "a negative product target asin=\"\(key.term.uppercased())\"" : "NEGATIVE_EXACT \"\(key.term)\""
                recs.append(Recommendation(
                    id: StableID.make([rule, key.campaign, key.group, key.term, day.rawValue]), day: day, ruleID: rule,
                    category: "ads", asin: "", sku: "", subject: key.term, severity: .medium,
                    summary: "search term \"\(key.term)\" converts: \(s.orders) orders from \(s.clicks) clicks at \(Fmt.num(acos, 1))% ACoS",
                    action: "add \(what) to a manual campaign at \(Fmt.money(bid)); add \(negative) to source ad group \(groupName) (campaign \(campaignName)) so the two do not bid against each other",
                    evidence: evidence, confidence: dataConfidence(Double(s.orders), half: 3),
                    expectedImpact: "controls the bid on a proven query, about \(Fmt.money(s.sales / Double(config.adsLookbackDays) * 30)) a month of sales at stake"))
            }
        }

        // ACoS spikes per campaign.
        var alerts: [Alert] = []
        for id in Set(recent.keys).union(recentFromTargets.keys).sorted() {
            let r = recent[id] ?? recentFromTargets[id] ?? AdStats()
            let b = baseline[id] ?? baselineFromTargets[id] ?? AdStats()
            guard r.cost >= config.acosSpikeMinSpend, let baseACoS = b.acos, baseACoS > 0 else { continue }
            let recentACoS = r.acos ?? .infinity
            guard recentACoS >= baseACoS * config.acosSpikeRatio else { continue }
            let name = campaigns[id]?.name ?? id
            let kind = "ads.acos.spike"
            alerts.append(Alert(
                id: StableID.make([kind, id, day.rawValue]), day: day, kind: kind, severity: .high, asin: "", sku: "",
                summary: "ACoS of campaign \(name) rose to \(r.acos.map { Fmt.num($0, 1) + "%" } ?? "no sales") over \(config.acosRecentDays) days from \(Fmt.num(baseACoS, 1))%",
                evidence: [Evidence("campaign", name), Evidence("campaign id", id),
                           Evidence("recent ACoS", r.acos.map { Fmt.num($0, 1) + "%" } ?? "no sales"),
                           Evidence("recent spend", Fmt.money(r.cost)), Evidence("recent sales", Fmt.money(r.sales)),
                           Evidence("baseline ACoS", Fmt.num(baseACoS, 1) + "%"),
                           Evidence("spike ratio", Fmt.num(config.acosSpikeRatio, 2)),
                           Evidence("recent window", "\(recentStart.rawValue) to \(end.adding(days: -1).rawValue)"),
                           Evidence("baseline window", "\(baselineStart.rawValue) to \(recentStart.adding(days: -1).rawValue)")]))
        }
        return alerts
    }

    /// `(1 − p)^n`: the chance of no order in `n` clicks at conversion rate `p` (§2.3 [44]).
    private func pow1m(_ p: Double, _ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<min(n, 10_000) { result *= (1 - p) }
        return result
    }

    private func bidRecommendation(target: AdTarget, group: AdGroup, campaign: AdCampaign, current: Double, own: AdStats,
                                   prior: Prior?, window: String) -> Recommendation? {
        var evidence = [Evidence("keyword or target", target.text), Evidence("match type", target.matchType),
                        Evidence("campaign", campaign.name), Evidence("ad group", group.name),
                        Evidence("clicks", String(own.clicks)), Evidence("orders", String(own.orders)),
                        Evidence("spend", Fmt.money(own.cost)), Evidence("sales", Fmt.money(own.sales)),
                        Evidence("ACoS", own.acos.map { Fmt.num($0, 1) + "%" } ?? "no sales"),
                        Evidence("window", window), Evidence("unsettled days ignored", String(config.unsettledDays)),
                        Evidence("current bid", Fmt.money(current)), Evidence("target ACoS", Fmt.num(settings.targetACoS, 1) + "%")]
        let newBid: Double
        let uncapped: Double
        var confidence: Double
        if let prior {
            let threshold = BidMath.clickThreshold(conversionRate: prior.rate, multiplier: config.clickThresholdMultiplier,
                                                   minimum: config.minClicksToJudge)
            guard own.clicks >= threshold else { return nil }
            let cvr = BidMath.smoothedConversionRate(orders: own.orders, clicks: own.clicks, priorRate: prior.rate,
                                                     strength: config.priorStrengthClicks)
            let aov = BidMath.smoothedOrderValue(sales: own.sales, orders: own.orders, priorValue: prior.orderValue,
                                                 weight: config.aovPriorOrders)
            uncapped = BidMath.targetBid(targetACoSPercent: settings.targetACoS, conversionRate: cvr, orderValue: aov)
            newBid = BidMath.cappedBid(current: current, target: uncapped, maxIncreasePercent: config.maxBidIncreasePercent,
                                       maxDecreasePercent: config.maxBidDecreasePercent, minBid: settings.minBid,
                                       maxBid: settings.maxBid)
            evidence += [Evidence("observed conversion rate", own.clicks > 0 ? Fmt.pct(Double(own.orders) / Double(own.clicks)) : "n/a"),
                         Evidence("prior level", prior.level), Evidence("prior conversion rate", Fmt.pct(prior.rate)),
                         Evidence("prior order value", Fmt.money(prior.orderValue)),
                         Evidence("prior weight (clicks)", Fmt.num(config.priorStrengthClicks, 0)),
                         Evidence("click threshold", String(threshold)),
                         Evidence("smoothed conversion rate", Fmt.pct(cvr)), Evidence("smoothed order value", Fmt.money(aov))]
            confidence = dataConfidence(Double(own.clicks), half: config.priorStrengthClicks)
        } else {
            // No level has an order: only a clearly wasting target is judged, by stepping the bid down.
            guard own.orders == 0, own.clicks >= config.negativeMinClicks, own.cost >= config.negativeMinSpend else { return nil }
            uncapped = settings.minBid
            newBid = BidMath.cappedBid(current: current, target: uncapped, maxIncreasePercent: config.maxBidIncreasePercent,
                                       maxDecreasePercent: config.maxBidDecreasePercent, minBid: settings.minBid,
                                       maxBid: settings.maxBid)
            evidence.append(Evidence("prior level", "none: no orders in ad group, campaign or account"))
            confidence = 0.5
        }
        guard abs(newBid - current) >= config.minBidChange else { return nil }
        evidence += [Evidence("target bid (uncapped)", Fmt.money(uncapped)),
                     Evidence("step cap", "+\(Fmt.num(config.maxBidIncreasePercent, 0))% / -\(Fmt.num(config.maxBidDecreasePercent, 0))%"),
                     Evidence("bid range", "\(Fmt.money(settings.minBid)) to \(Fmt.money(settings.maxBid))"),
                     Evidence("recommended bid", Fmt.money(newBid))]
        let rule: String
        let severity: Severity
        let summary: String
        if own.orders == 0 {
            rule = "ads.bid.no_orders"
            severity = own.cost >= 2 * config.negativeMinSpend ? .high : .medium
            summary = "\(target.kind == .keyword ? "keyword" : "target") \"\(target.text)\" spent \(Fmt.money(own.cost)) on \(own.clicks) clicks with no order"
            confidence = max(confidence, 0.5)
        } else if newBid < current {
            rule = "ads.bid.lower"
            severity = (own.acos ?? 0) > settings.targetACoS * 1.5 ? .medium : .low
            summary = "\"\(target.text)\" runs at \(own.acos.map { Fmt.num($0, 1) + "%" } ?? "n/a") ACoS against a \(Fmt.num(settings.targetACoS, 1))% target"
        } else {
            rule = "ads.bid.raise"
            severity = .low
            summary = "\"\(target.text)\" earns more per click than it bids: room to raise towards \(Fmt.num(settings.targetACoS, 1))% ACoS"
        }
        let perMonth = Double(own.clicks) / Double(config.adsLookbackDays) * 30
        return Recommendation(
            id: StableID.make([rule, target.targetID, day.rawValue]), day: day, ruleID: rule, category: "ads",
            asin: "", sku: "", subject: target.text + " [" + target.targetID + "]", severity: severity, summary: summary,
            action: "set the bid of \"\(target.text)\" (\(target.matchType)) from \(Fmt.money(current)) to \(Fmt.money(newBid))"
                + (abs(newBid - uncapped) >= 0.01 ? "; target \(Fmt.money(uncapped)) is reached over later runs" : ""),
            evidence: evidence, confidence: confidence,
            expectedImpact: newBid < current
                ? "about \(Fmt.money((current - newBid) * perMonth)) a month less spend at current click volume"
                : "more impressions and clicks at an ACoS still within the \(Fmt.num(settings.targetACoS, 1))% target")
    }
}
