import Domain
import Foundation

/// A marketplace the seller participates in (Sellers API `getMarketplaceParticipations`).
public struct MarketplaceParticipation: Sendable, Hashable, Codable {
    public var marketplaceID: String
    public var countryCode: String
    public var name: String
    public var currency: String
    public var isParticipating: Bool
    public var hasSuspendedListings: Bool
}

/// One row of the All Listings report (GET_MERCHANT_LISTINGS_ALL_DATA), the seller's SKU/ASIN inventory.
public struct InventoryRow: Sendable, Hashable, Codable {
    public var sku: String
    public var asin: String
    public var itemName: String
    public var price: Double?
    public var quantity: Int?
    public var fulfillmentChannel: String
    public var status: String
}

extension AmazonClient {
    // MARK: Sellers

    /// The seller's marketplaces (getMarketplaceParticipations); the seller id itself comes from OAuth.
    public func fetchMarketplaceParticipations(seller: SellerAuthorization) async throws(AmazonClientError) -> [MarketplaceParticipation] {
        let response = try await call(seller, .getMarketplaceParticipations, method: .GET, path: "/sellers/v1/marketplaceParticipations")
        let decoded = try decode(MarketplaceParticipationsResponse.self, response, operation: "getMarketplaceParticipations")
        guard let payload = decoded.payload else {
            throw .malformed(operation: "getMarketplaceParticipations", field: "payload", reason: "missing")
        }
        return payload.map {
            MarketplaceParticipation(marketplaceID: $0.marketplace.id, countryCode: $0.marketplace.countryCode, name: $0.marketplace.name,
                                     currency: $0.marketplace.defaultCurrencyCode, isParticipating: $0.participation.isParticipating,
                                     hasSuspendedListings: $0.participation.hasSuspendedListings)
        }
    }

    // MARK: Listings

    /// The All Listings report: every SKU with its ASIN, price, quantity and status.
    public func fetchInventory(seller: SellerAuthorization, marketplace: String) async throws(AmazonClientError) -> [InventoryRow] {
        guard let document = try await runReport(seller, reportType: "GET_MERCHANT_LISTINGS_ALL_DATA", marketplaceID: marketplace,
                                                 start: nil, end: nil, options: [:]) else { return [] }
        let file = FlatFile(text: TextDecoding.decode(document.bytes, charset: document.charset))
        for column in ["seller-sku", "asin1"] where !file.header.contains(column) {
            throw .malformed(operation: "GET_MERCHANT_LISTINGS_ALL_DATA", field: column, reason: "column missing from header")
        }
        return file.rows.compactMap { row in
            guard let sku = row["seller-sku"], !sku.isEmpty else { return nil }
            return InventoryRow(sku: sku, asin: row["asin1"] ?? "", itemName: row["item-name"] ?? "",
                                price: row["price"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) },
                                quantity: row["quantity"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
                                fulfillmentChannel: row["fulfillment-channel"].flatMap { $0.isEmpty ? nil : $0 } ?? "DEFAULT",
                                status: row["status"] ?? "")
        }
    }

    /// Listing content for every SKU: All Listings report, then getListingsItem per SKU (attributes, issues),
    /// and getCatalogItem only for SKUs whose listing lacks a brand or title.
    public func fetchListings(seller: SellerAuthorization, marketplace: String, day: Day,
                              concurrency: Int = 16) async throws(AmazonClientError) -> [ListingSnapshot] {
        let inventory = try await fetchInventory(seller: seller, marketplace: marketplace)
        return try await fetchListings(seller: seller, marketplace: marketplace, day: day, inventory: inventory, concurrency: concurrency)
    }

    /// Listing content for the SKUs of an All Listings report the caller already fetched (one report serves
    /// listings and pricing): getListingsItem per SKU, getCatalogItem only where brand or title is missing.
    ///
    /// Calls run `concurrency` at a time; the rate limiter paces them, so concurrency only has to cover the
    /// round-trip time at Amazon's rate (getListingsItem: 5/s with a burst of 10).
    public func fetchListings(seller: SellerAuthorization, marketplace: String, day: Day, inventory: [InventoryRow],
                              concurrency: Int = 16) async throws(AmazonClientError) -> [ListingSnapshot] {
        let snapshots = try await boundedMap(inventory, concurrency: concurrency) { [self] row throws(AmazonClientError) in
            var snapshot = try await fetchListingsItem(seller: seller, marketplace: marketplace, sku: row.sku, day: day)
            if snapshot.asin.isEmpty { snapshot.asin = row.asin }
            if snapshot.title.isEmpty { snapshot.title = row.itemName }
            snapshot.price = row.price
            snapshot.quantity = row.quantity
            snapshot.fulfillmentChannel = row.fulfillmentChannel
            if (snapshot.brand.isEmpty || snapshot.title.isEmpty), !snapshot.asin.isEmpty {
                let catalog = try await fetchCatalogItem(seller: seller, marketplace: marketplace, asin: snapshot.asin)
                if snapshot.brand.isEmpty { snapshot.brand = catalog.brand }
                if snapshot.title.isEmpty { snapshot.title = catalog.title }
            }
            return snapshot
        }
        return firewall.filter(snapshots, dataSet: "listings", seller: seller.sellerID)
    }

    /// One SKU's listing (getListingsItem with summaries, attributes and issues) as a snapshot.
    public func fetchListingsItem(seller: SellerAuthorization, marketplace: String, sku: String,
                                  day: Day) async throws(AmazonClientError) -> ListingSnapshot {
        let response = try await call(seller, .getListingsItem, method: .GET,
                                      path: "/listings/2021-08-01/items/\(Self.pathSegment(seller.sellerID.rawValue))/\(Self.pathSegment(sku))",
                                      query: [("marketplaceIds", marketplace), ("includedData", "summaries,attributes,issues"), ("issueLocale", "en_US")])
        let item = try decode(ListingsItem.self, response, operation: "getListingsItem")
        let summary = item.summaries?.first { $0.marketplaceId == marketplace } ?? item.summaries?.first
        let attributes = item.attributes ?? [:]
        func values(_ name: String) -> [String] {
            guard case let .array(entries)? = attributes[name] else { return [] }
            return entries.compactMap { entry -> String? in
                if let mp = entry["marketplace_id"]?.stringValue, mp != marketplace { return nil }
                return entry["value"]?.stringValue
            }
        }
        return ListingSnapshot(day: day, marketplaceID: marketplace, sku: item.sku, asin: summary?.asin ?? "",
                               title: values("item_name").first ?? summary?.itemName ?? "",
                               bullets: values("bullet_point"), description: values("product_description").first ?? "",
                               backendKeywords: values("generic_keyword").joined(separator: " "), brand: values("brand").first ?? "",
                               productType: summary?.productType ?? "", status: summary?.status ?? [],
                               issues: (item.issues ?? []).map { ListingIssue(code: $0.code, severity: $0.severity, message: $0.message) })
    }

    /// Title and brand of an ASIN from the catalog (getCatalogItem, summaries).
    public func fetchCatalogItem(seller: SellerAuthorization, marketplace: String,
                                 asin: String) async throws(AmazonClientError) -> (title: String, brand: String) {
        let response = try await call(seller, .getCatalogItem, method: .GET, path: "/catalog/2022-04-01/items/\(Self.pathSegment(asin))",
                                      query: [("marketplaceIds", marketplace), ("includedData", "summaries,attributes")])
        let item = try decode(CatalogItem.self, response, operation: "getCatalogItem")
        let summary = item.summaries?.first { $0.marketplaceId == marketplace } ?? item.summaries?.first
        return (summary?.itemName ?? "", summary?.brand ?? "")
    }

    // MARK: Pricing

    /// Offers, Buy Box, competitive price and featured offer expected price for the given SKUs.
    ///
    /// Uses the batch/multi-item operations at their maximum sizes (20 ASINs for getItemOffersBatch and
    /// getCompetitivePricing, 40 SKUs for getFeaturedOfferExpectedPriceBatch) so calls per ASIN are minimal.
    public func fetchOffers(seller: SellerAuthorization, marketplace: String, day: Day,
                            items: [(sku: String, asin: String)]) async throws(AmazonClientError) -> [OfferSnapshot] {
        let asins = Array(Set(items.map(\.asin).filter { !$0.isEmpty })).sorted()
        let skus = items.map(\.sku)
        async let offersTask = boundedMap(asins.chunked(20), concurrency: 4) { [self] chunk throws(AmazonClientError) in
            try await itemOffersBatch(seller: seller, marketplace: marketplace, asins: chunk)
        }
        async let competitiveTask = boundedMap(asins.chunked(20), concurrency: 4) { [self] chunk throws(AmazonClientError) in
            try await competitivePricing(seller: seller, marketplace: marketplace, asins: chunk)
        }
        async let foepTask = boundedMap(skus.chunked(40), concurrency: 4) { [self] chunk throws(AmazonClientError) in
            try await featuredOfferExpectedPrices(seller: seller, marketplace: marketplace, skus: chunk)
        }
        let offers: [[String: GetOffersResult]]
        let competitive: [[String: Double]]
        let foep: [[String: Double]]
        do {
            offers = try await offersTask
            competitive = try await competitiveTask
            foep = try await foepTask
        } catch let error as AmazonClientError {
            throw error
        } catch {
            throw .unavailable(seller: seller.sellerID, operation: "fetchOffers", attempts: 1, lastError: "\(type(of: error))")
        }
        let offerByASIN = offers.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
        let competitiveByASIN = competitive.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
        let foepBySKU = foep.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
        let snapshots = items.map { item -> OfferSnapshot in
            Self.offerSnapshot(day: day, marketplace: marketplace, sku: item.sku, asin: item.asin, sellerID: seller.sellerID.rawValue,
                               result: offerByASIN[item.asin], competitivePrice: competitiveByASIN[item.asin], foep: foepBySKU[item.sku])
        }
        return firewall.filter(snapshots, dataSet: "offers", seller: seller.sellerID)
    }

    static func offerSnapshot(day: Day, marketplace: String, sku: String, asin: String, sellerID: String, result: GetOffersResult?,
                              competitivePrice: Double?, foep: Double?) -> OfferSnapshot {
        guard let result else {
            return OfferSnapshot(day: day, marketplaceID: marketplace, asin: asin, sku: sku, ownPrice: nil, ownIsFBA: false, buyBoxWon: false,
                                 buyBoxPrice: nil, buyBoxSellerID: nil, competitors: [], featuredOfferExpectedPrice: foep,
                                 competitivePrice: competitivePrice, totalOfferCount: 0)
        }
        let mine = result.Offers.first { $0.MyOffer == true || $0.SellerId == sellerID }
        let winner = result.Offers.first { $0.IsBuyBoxWinner == true }
        let newBuyBox = result.Summary.BuyBoxPrices?.first { $0.condition.lowercased() == "new" } ?? result.Summary.BuyBoxPrices?.first
        let buyBoxPrice = newBuyBox?.LandedPrice.Amount?.value
            ?? winner.map { ($0.ListingPrice.Amount?.value ?? 0) + ($0.Shipping.Amount?.value ?? 0) }
        let buyBoxSeller = newBuyBox?.sellerId ?? winner?.SellerId
        let won = (mine?.IsBuyBoxWinner == true) || (buyBoxSeller != nil && buyBoxSeller == sellerID)
        let competitors = result.Offers.filter { !($0.MyOffer == true || $0.SellerId == sellerID) }.map {
            CompetitorOffer(sellerID: $0.SellerId ?? "", listingPrice: $0.ListingPrice.Amount?.value ?? 0, shipping: $0.Shipping.Amount?.value ?? 0,
                            isFulfilledByAmazon: $0.IsFulfilledByAmazon, isBuyBoxWinner: $0.IsBuyBoxWinner ?? false,
                            isFeaturedMerchant: $0.IsFeaturedMerchant ?? false, condition: $0.SubCondition)
        }
        let currency = newBuyBox?.LandedPrice.CurrencyCode ?? result.Offers.first?.ListingPrice.CurrencyCode ?? "USD"
        return OfferSnapshot(day: day, marketplaceID: marketplace, asin: asin, sku: sku, currency: currency,
                             ownPrice: mine?.ListingPrice.Amount?.value, ownShipping: mine?.Shipping.Amount?.value ?? 0,
                             ownIsFBA: mine?.IsFulfilledByAmazon ?? false, buyBoxWon: won, buyBoxPrice: buyBoxPrice,
                             buyBoxSellerID: buyBoxSeller, competitors: competitors, featuredOfferExpectedPrice: foep,
                             competitivePrice: competitivePrice, totalOfferCount: result.Summary.TotalOfferCount)
    }

    /// getItemOffersBatch for up to 20 ASINs; per-item failures (status ≥ 400) are skipped, not fatal.
    func itemOffersBatch(seller: SellerAuthorization, marketplace: String, asins: [String]) async throws(AmazonClientError) -> [String: GetOffersResult] {
        guard (1...20).contains(asins.count) else { throw .invalidRequest(operation: "getItemOffersBatch", reason: "\(asins.count) items (1-20 allowed)") }
        let requests: [[String: Any]] = asins.map {
            ["uri": "/products/pricing/v0/items/\(Self.pathSegment($0))/offers", "method": "GET", "MarketplaceId": marketplace,
             "ItemCondition": "New", "CustomerType": "Consumer"]
        }
        let body = try! JSONSerialization.data(withJSONObject: ["requests": requests], options: [.sortedKeys])
        let response = try await call(seller, .getItemOffersBatch, method: .POST, path: "/batches/products/pricing/v0/itemOffers", json: body)
        let decoded = try decode(ItemOffersBatchResponse.self, response, operation: "getItemOffersBatch")
        guard let items = decoded.responses else { throw .malformed(operation: "getItemOffersBatch", field: "responses", reason: "missing") }
        var out: [String: GetOffersResult] = [:]
        for (index, item) in items.enumerated() {
            if let code = item.status?.statusCode, code >= 400 { continue }
            guard let payload = item.body.payload else {
                if item.body.errors != nil { continue }
                throw .malformed(operation: "getItemOffersBatch", field: "responses[\(index)].body.payload", reason: "missing")
            }
            let asin = payload.ASIN ?? item.request?.Asin ?? (index < asins.count ? asins[index] : "")
            out[asin] = payload
        }
        return out
    }

    /// getCompetitivePricing for up to 20 ASINs: the New Buy Box price (`CompetitivePriceId` "1").
    func competitivePricing(seller: SellerAuthorization, marketplace: String, asins: [String]) async throws(AmazonClientError) -> [String: Double] {
        guard (1...20).contains(asins.count) else { throw .invalidRequest(operation: "getCompetitivePricing", reason: "\(asins.count) items (1-20 allowed)") }
        let response = try await call(seller, .getCompetitivePricing, method: .GET, path: "/products/pricing/v0/competitivePrice",
                                      query: [("MarketplaceId", marketplace), ("ItemType", "Asin"), ("Asins", asins.joined(separator: ","))])
        let decoded = try decode(CompetitivePricingResponse.self, response, operation: "getCompetitivePricing")
        guard let payload = decoded.payload else { throw .malformed(operation: "getCompetitivePricing", field: "payload", reason: "missing") }
        var out: [String: Double] = [:]
        for price in payload where price.status == "Success" {
            guard let asin = price.ASIN, let prices = price.Product?.CompetitivePricing?.CompetitivePrices else { continue }
            let buyBox = prices.first { $0.CompetitivePriceId == "1" } ?? prices.first
            if let buyBox {
                out[asin] = buyBox.Price.LandedPrice?.Amount?.value ?? buyBox.Price.ListingPrice.Amount?.value
            }
        }
        return out
    }

    /// getFeaturedOfferExpectedPriceBatch for up to 40 SKUs: FOEP listing price where `resultStatus` is VALID_FOEP.
    func featuredOfferExpectedPrices(seller: SellerAuthorization, marketplace: String, skus: [String]) async throws(AmazonClientError) -> [String: Double] {
        guard (1...40).contains(skus.count) else { throw .invalidRequest(operation: "getFeaturedOfferExpectedPriceBatch", reason: "\(skus.count) items (1-40 allowed)") }
        let requests: [[String: Any]] = skus.map {
            ["uri": "/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice", "method": "GET", "marketplaceId": marketplace, "sku": $0]
        }
        let body = try! JSONSerialization.data(withJSONObject: ["requests": requests], options: [.sortedKeys])
        let response = try await call(seller, .getFeaturedOfferExpectedPriceBatch, method: .POST,
                                      path: "/batches/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice", json: body)
        let decoded = try decode(FOEPBatchResponse.self, response, operation: "getFeaturedOfferExpectedPriceBatch")
        var out: [String: Double] = [:]
        for item in decoded.responses where (item.status?.statusCode ?? 200) < 400 {
            if let result = item.body?.featuredOfferExpectedPriceResults?.first(where: { $0.resultStatus == "VALID_FOEP" }),
               let price = result.featuredOfferExpectedPrice {
                out[item.request.sku] = price.listingPrice.amount
            }
        }
        return out
    }

    // MARK: Reports-based data sets

    /// Per-ASIN sessions, page views, Buy Box % and conversion for one day (GET_SALES_AND_TRAFFIC_REPORT).
    public func fetchSalesTraffic(seller: SellerAuthorization, marketplace: String, day: Day) async throws(AmazonClientError) -> [SalesTrafficRow] {
        guard let document = try await runReport(seller, reportType: "GET_SALES_AND_TRAFFIC_REPORT", marketplaceID: marketplace,
                                                 start: day.rawValue, end: day.rawValue,
                                                 options: ["dateGranularity": "DAY", "asinGranularity": "CHILD"]) else { return [] }
        let decoded = try Self.decode(SalesTrafficDocument.self, data: document.bytes, operation: "GET_SALES_AND_TRAFFIC_REPORT")
        let rows = decoded.salesAndTrafficByAsin.map {
            SalesTrafficRow(day: day, marketplaceID: marketplace, asin: $0.childAsin ?? $0.parentAsin, sessions: $0.trafficByAsin.sessions,
                            pageViews: $0.trafficByAsin.pageViews, buyBoxPercentage: $0.trafficByAsin.buyBoxPercentage,
                            unitSessionPercentage: $0.trafficByAsin.unitSessionPercentage, unitsOrdered: $0.salesByAsin.unitsOrdered,
                            orderedProductSales: $0.salesByAsin.orderedProductSales.amount)
        }
        return firewall.filter(rows, dataSet: "salesTraffic", seller: seller.sellerID)
    }

    /// Brand Analytics Search Query Performance for the week (Sunday–Saturday) that ends on or before `day`.
    ///
    /// ASINs are grouped into reports whose space-separated `asin` option stays within Amazon's 200 characters.
    public func fetchSearchQueryPerformance(seller: SellerAuthorization, marketplace: String, day: Day,
                                            asins: [String]) async throws(AmazonClientError) -> [SearchQueryRow] {
        let week = Self.lastCompleteWeek(before: day)
        var groups: [[String]] = []
        for asin in Array(Set(asins)).sorted() {
            if var last = groups.last, (last + [asin]).joined(separator: " ").count <= 200 {
                last.append(asin)
                groups[groups.count - 1] = last
            } else {
                groups.append([asin])
            }
        }
        let documents = try await boundedMap(groups, concurrency: 4) { [self] group throws(AmazonClientError) in
            try await runReport(seller, reportType: "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT", marketplaceID: marketplace,
                                start: week.start.rawValue, end: week.end.rawValue,
                                options: ["reportPeriod": "WEEK", "asin": group.joined(separator: " ")])
        }
        var rows: [SearchQueryRow] = []
        for document in documents.compactMap({ $0 }) {
            let decoded = try Self.decode(SQPDocument.self, data: document.bytes, operation: "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT")
            for (i, r) in decoded.dataByAsin.enumerated() {
                guard let start = Day(rawValue: r.startDate), let end = Day(rawValue: r.endDate) else {
                    throw .malformed(operation: "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT", field: "dataByAsin[\(i)].startDate", reason: "not a YYYY-MM-DD day")
                }
                rows.append(SearchQueryRow(weekStart: start, weekEnd: end, marketplaceID: marketplace, asin: r.asin, query: r.searchQueryData.searchQuery,
                                           queryScore: r.searchQueryData.searchQueryScore, queryVolume: r.searchQueryData.searchQueryVolume,
                                           totalImpressions: r.impressionData.totalQueryImpressionCount, asinImpressions: r.impressionData.asinImpressionCount,
                                           impressionShare: r.impressionData.asinImpressionShare, totalClicks: r.clickData.totalClickCount,
                                           asinClicks: r.clickData.asinClickCount, clickShare: r.clickData.asinClickShare,
                                           totalCartAdds: r.cartAddData.totalCartAddCount, asinCartAdds: r.cartAddData.asinCartAddCount,
                                           cartAddShare: r.cartAddData.asinCartAddShare, totalPurchases: r.purchaseData.totalPurchaseCount,
                                           asinPurchases: r.purchaseData.asinPurchaseCount, purchaseShare: r.purchaseData.asinPurchaseShare))
            }
        }
        return firewall.filter(rows, dataSet: "searchQueryPerformance", seller: seller.sellerID)
    }

    /// The most recent complete Sunday–Saturday week ending before `day` (a Saturday `day` itself is not yet complete).
    public static func lastCompleteWeek(before day: Day) -> (start: Day, end: Day) {
        // weekday: 1 = Sunday … 7 = Saturday; the last Saturday strictly before `day`.
        let end = day.adding(days: -day.weekday)
        return (end.adding(days: -6), end)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

/// Maps `items` with at most `concurrency` calls in flight, keeping input order; the first error cancels the rest.
func boundedMap<T: Sendable, R: Sendable>(_ items: [T], concurrency: Int,
                                          _ transform: @escaping @Sendable (T) async throws(AmazonClientError) -> R) async throws(AmazonClientError) -> [R] {
    do {
        return try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            for _ in 0..<Swift.min(concurrency, items.count) {
                let i = next
                group.addTask { (i, try await transform(items[i])) }
                next += 1
            }
            while let (i, value) = try await group.next() {
                results[i] = value
                if next < items.count {
                    let j = next
                    group.addTask { (j, try await transform(items[j])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    } catch let error as AmazonClientError {
        throw error
    } catch {
        throw .unavailable(seller: AmazonClient.onboarding, operation: "task group", attempts: 1, lastError: "\(type(of: error))")
    }
}
