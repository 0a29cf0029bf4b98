import Domain

/// Buy Box and repricing recommendations on a landed-price basis (family 4, §2.4).
///
/// Floors and ceilings are landed prices, as repricers define them (§2.4 [74]). No floor means no price
/// recommendation at all (§2.4 [74][98][99]): the seller gets an info finding saying why instead.
struct PricingRules {
    let config: AnalysisConfig
    let day: Day
    let settings: SellerSettings

    func recommendations(for offer: OfferSnapshot) -> [Recommendation] {
        guard let ownItem = offer.ownPrice, let ownLanded = offer.ownLandedPrice, ownLanded > 0 else { return [] }
        let currency = offer.currency
        let guardrail = settings.guardrails[offer.sku]
        let winner = offer.competitors.first { $0.isBuyBoxWinner }
        let suppressed = !offer.buyBoxWon && offer.buyBoxPrice == nil && offer.buyBoxSellerID == nil && winner == nil
        var base: [Evidence] = [
            Evidence("own item price", Fmt.money(ownItem, currency)), Evidence("own shipping", Fmt.money(offer.ownShipping, currency)),
            Evidence("own landed price", Fmt.money(ownLanded, currency)),
            Evidence("fulfillment", offer.ownIsFBA ? "FBA" : "FBM"),
            Evidence("Buy Box", offer.buyBoxWon ? "won" : (suppressed ? "suppressed" : "lost")),
            Evidence("offers", String(offer.totalOfferCount)),
        ]
        if let bb = offer.buyBoxPrice {
            base.append(Evidence("Buy Box landed price", Fmt.money(bb, currency)))
            base.append(Evidence("gap to Buy Box", Fmt.money(ownLanded - bb, currency) + " (" + Fmt.num((ownLanded - bb) / bb * 100, 1) + "%)"))
        }
        if let winner {
            base.append(Evidence("Buy Box winner fulfillment", winner.isFulfilledByAmazon ? "FBA" : "FBM"))
        }
        if let foep = offer.featuredOfferExpectedPrice {
            base.append(Evidence("featured offer expected price", Fmt.money(foep, currency)))
            base.append(Evidence("gap to featured offer expected price", Fmt.money(ownLanded - foep, currency)))
        }
        if let guardrail {
            base.append(Evidence("floor (landed)", Fmt.money(guardrail.floor, currency)))
            base.append(Evidence("ceiling (landed)", Fmt.money(guardrail.ceiling, currency)))
        }
        base.append(Evidence("daily change cap", Fmt.num(config.maxDailyPriceChangePercent, 1) + "%"))

        func rec(_ rule: String, _ severity: Severity, _ summary: String, _ action: String, _ confidence: Double,
                 _ impact: String, extra: [Evidence] = []) -> Recommendation {
            Recommendation(id: StableID.make([rule, offer.asin, offer.sku, "price", day.rawValue]), day: day, ruleID: rule,
                           category: "pricing", asin: offer.asin, sku: offer.sku, subject: "price", severity: severity,
                           summary: summary, action: action, evidence: base + extra, confidence: confidence,
                           expectedImpact: impact)
        }
        let buyBoxImpact = "the featured offer carries most sales (about 82% by practitioner estimate, §2.4 [87])"

        // A price already outside the guardrails is fixed first: the floor is never crossed, whatever else applies.
        let breaches = guardrailBreaches(offer: offer, ownLanded: ownLanded, guardrail: guardrail, rec: rec)
        if !breaches.isEmpty { return breaches }

        // Where the price should go, if anywhere, and why.
        var target: Double?
        var targetReason = ""
        var out: [Recommendation] = []
        if suppressed {
            let reference = offer.featuredOfferExpectedPrice ?? offer.competitivePrice
            out.append(rec(
                "pricing.buybox.suppressed", .high,
                "no offer holds the Buy Box on \(offer.asin) (\(offer.totalOfferCount) offers): the Buy Box is suppressed",
                reference.map { "a landed price at or below \(Fmt.money($0, currency)) (Amazon's reference) should restore it; check PRICING_HEALTH for the competitive price threshold" }
                    ?? "check PRICING_HEALTH for the competitive price threshold; an offer priced above it is ineligible",
                0.7, "a suppressed Buy Box hides the Add to Cart button; most shoppers never reach the offer list"))
            if let reference, reference < ownLanded {
                target = reference
                targetReason = "Amazon's reference price for a featured offer"
            }
        } else if !offer.buyBoxWon, let bb = offer.buyBoxPrice {
            let allowed = offer.ownIsFBA && winner?.isFulfilledByAmazon == false ? bb * (1 + config.fbaPremiumOverFBMPercent / 100) : bb
            let goal = offer.featuredOfferExpectedPrice ?? allowed
            if ownLanded <= goal + 0.005 {
                out.append(rec(
                    "pricing.buybox.lost_not_price", .medium,
                    "Buy Box lost on \(offer.asin) although the landed price \(Fmt.money(ownLanded, currency)) is at or below the target \(Fmt.money(goal, currency))",
                    "price is not the cause: check stock depth, fulfillment speed and account metrics (ODR, late shipment)",
                    0.6, buyBoxImpact))
            } else {
                target = goal
                targetReason = offer.featuredOfferExpectedPrice != nil ? "the featured offer expected price"
                    : (allowed > bb ? "the Buy Box price plus the FBA premium over an FBM winner" : "the Buy Box landed price")
            }
        } else if offer.buyBoxWon {
            let rivals = offer.competitors.filter { $0.condition.lowercased() == "new" }
            if let cheapest = rivals.map(\.landedPrice).min(), cheapest > ownLanded * (1 + config.raiseHeadroomPercent / 100) {
                target = cheapest - 0.01
                targetReason = "one cent below the cheapest competing offer (\(Fmt.money(cheapest, currency)))"
            }
        }

        guard let goal = target else { return out }
        guard let guardrail else {
            out.append(rec(
                "pricing.no_floor", .info,
                "no price recommendation for \(offer.sku): no price floor is set",
                "set a floor and ceiling (optmazon sellers set SELLER --sku \(offer.sku) --price-floor X --price-ceiling Y) to get price recommendations",
                1, "repricing without a floor has sold stock at a penny (§2.4 [98][99])",
                extra: [Evidence("target landed price", Fmt.money(goal, currency)), Evidence("target basis", targetReason)]))
            return out
        }
        let lowering = goal < ownLanded
        if lowering, goal < guardrail.floor {
            out.append(rec(
                "pricing.buybox.below_floor", .low,
                "winning the Buy Box on \(offer.sku) needs \(Fmt.money(goal, currency)) landed, below the floor \(Fmt.money(guardrail.floor, currency))",
                "hold the price: matching would cross the floor",
                0.8, "avoids a race to the bottom (§2.4 [75][88])",
                extra: [Evidence("target landed price", Fmt.money(goal, currency)), Evidence("target basis", targetReason)]))
            return out
        }
        let cap = ownLanded * config.maxDailyPriceChangePercent / 100
        var landed = lowering ? max(goal, ownLanded - cap) : min(goal, ownLanded + cap)
        landed = Self.cents(landed, within: max(guardrail.floor, ownLanded - cap), min(guardrail.ceiling, ownLanded + cap))
        guard abs(landed - ownLanded) >= 0.01 else { return out }
        let capped = lowering ? landed > goal + 0.005 : landed < goal - 0.005
        let item = max(0.01, ((landed - offer.ownShipping) * 100).rounded() / 100)
        let rule = lowering ? "pricing.buybox.lost" : "pricing.buybox.raise_headroom"
        let summary = lowering
            ? "Buy Box lost on \(offer.asin): landed price \(Fmt.money(ownLanded, currency)) is \(Fmt.money(ownLanded - goal, currency)) above \(targetReason)"
            : "Buy Box held on \(offer.asin) with room above: \(targetReason)"
        let action = "set item price to \(Fmt.money(item, currency)) (landed \(Fmt.money(landed, currency)))"
            + (capped ? "; capped at \(Fmt.num(config.maxDailyPriceChangePercent, 1))% a day, target \(Fmt.money(goal, currency)) landed" : "")
        out.append(rec(rule, lowering ? .high : .low, summary, action,
                       offer.featuredOfferExpectedPrice != nil ? 0.8 : 0.7,
                       lowering ? buyBoxImpact : "about \(Fmt.money(landed - ownLanded, currency)) more margin per unit while keeping the Buy Box",
                       extra: [Evidence("target landed price", Fmt.money(goal, currency)), Evidence("target basis", targetReason),
                               Evidence("recommended landed price", Fmt.money(landed, currency)),
                               Evidence("capped by daily limit", capped ? "yes" : "no")]))
        return out
    }

    /// Own prices already outside the seller's guardrails.
    private func guardrailBreaches(offer: OfferSnapshot, ownLanded: Double, guardrail: PriceGuardrail?,
                                   rec: (String, Severity, String, String, Double, String, [Evidence]) -> Recommendation) -> [Recommendation] {
        guard let guardrail else { return [] }
        let currency = offer.currency
        if ownLanded < guardrail.floor - 0.005 {
            let item = ((guardrail.floor - offer.ownShipping) * 100).rounded(.up) / 100
            return [rec("pricing.below_floor", .high,
                        "landed price \(Fmt.money(ownLanded, currency)) of \(offer.sku) is below its floor \(Fmt.money(guardrail.floor, currency))",
                        "raise the item price to \(Fmt.money(item, currency)) (landed \(Fmt.money(guardrail.floor, currency)))",
                        1, "stops selling below the margin the seller set", [])]
        }
        if ownLanded > guardrail.ceiling + 0.005 {
            let item = ((guardrail.ceiling - offer.ownShipping) * 100).rounded(.down) / 100
            return [rec("pricing.above_ceiling", .medium,
                        "landed price \(Fmt.money(ownLanded, currency)) of \(offer.sku) is above its ceiling \(Fmt.money(guardrail.ceiling, currency))",
                        "lower the item price to \(Fmt.money(item, currency)) (landed \(Fmt.money(guardrail.ceiling, currency)))",
                        1, "keeps the offer within the range the seller set", [])]
        }
        return []
    }

    /// `x` rounded to the nearest cent, then pulled inside [`low`, `high`] rounding inwards, so neither the
    /// floor and ceiling nor the daily cap is crossed by rounding. `low` wins if the bounds cross.
    static func cents(_ x: Double, within low: Double, _ high: Double) -> Double {
        var c = (x * 100).rounded() / 100
        if c > high + 1e-9 { c = (high * 100 + 1e-6).rounded(.down) / 100 }
        if c < low - 1e-9 { c = (low * 100 - 1e-6).rounded(.up) / 100 }
        return c
    }
}
