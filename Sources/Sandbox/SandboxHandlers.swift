import NIOFoundationCompat
import Domain
import Foundation
import HTTPTypes
import Hummingbird

extension SandboxServer {
    // MARK: Sellers

    func participations(_ seller: SandboxSeller) -> Any {
        ["payload": [["marketplace": ["id": seller.marketplaceID, "countryCode": "US", "name": "Amazon.com", "defaultCurrencyCode": "USD",
                                      "defaultLanguageCode": "en_US", "domainName": "www.amazon.com"],
                      "participation": ["isParticipating": true, "hasSuspendedListings": false],
                      "storeName": "Sandbox Store \(seller.index + 1)"]]]
    }

    // MARK: Reports

    static let reportTypes: Set<String> = ["GET_MERCHANT_LISTINGS_ALL_DATA", "GET_SALES_AND_TRAFFIC_REPORT",
                                           "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT"]

    func createReport(_ seller: SandboxSeller, _ r: Incoming) async throws -> Any {
        guard let spec = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any],
              let type = spec["reportType"] as? String, let marketplaces = spec["marketplaceIds"] as? [String], !marketplaces.isEmpty else {
            throw Self.badRequest("reportType and marketplaceIds are required")
        }
        guard marketplaces.count <= 25 else { throw Self.badRequest("marketplaceIds allows at most 25 values") }
        let options = spec["reportOptions"] as? [String: String] ?? [:]
        let start = (spec["dataStartTime"] as? String).map { String($0.prefix(10)) }
        let end = (spec["dataEndTime"] as? String).map { String($0.prefix(10)) }
        var outcome = "DONE"
        if !Self.reportTypes.contains(type) {
            outcome = "CANCELLED"
        } else if type == "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT" {
            // Amazon: WEEK periods must run Sunday..Saturday, exactly one marketplace, `asin` ≤ 200 characters.
            let asins = options["asin"] ?? ""
            if options["reportPeriod"] != "WEEK" || marketplaces.count != 1 || asins.isEmpty || asins.count > 200 {
                outcome = "FATAL"
            } else if let s = start.flatMap(Day.init(rawValue:)), let e = end.flatMap(Day.init(rawValue:)) {
                if s.weekday != 1 || e.weekday != 7 || s.days(until: e) != 6 { outcome = "FATAL" }
                else if e >= config.today { outcome = "CANCELLED" }
            } else {
                outcome = "FATAL"
            }
        } else if type == "GET_SALES_AND_TRAFFIC_REPORT" {
            if let s = start.flatMap(Day.init(rawValue:)), s >= config.today { outcome = "CANCELLED" }
            if start.flatMap(Day.init(rawValue:)) == nil { outcome = "FATAL" }
        }
        let id = String(50_000_000_000 + (await state.nextID("")).hashValue.magnitude % 1_000_000_000)
        let reportID = "\(id)\(await state.nextID("-"))".replacingOccurrences(of: "-", with: "")
        let report = SandboxState.Report(id: reportID, seller: seller.sellerID, type: type, created: await state.now(),
                                         createdTime: "\(config.today.rawValue)T00:00:00Z", start: start, end: end, marketplaceIDs: marketplaces,
                                         options: options, outcome: outcome)
        await state.addReport(report)
        if outcome == "DONE" {
            // Like Amazon, the document is produced while the report is processing, so getReport stays a quick status call.
            // Rendering is long CPU work, so it runs on its own queue instead of occupying a cooperative thread.
            await state.startRendering(reportID, Task { [self] in
                try await withCheckedThrowingContinuation { continuation in
                    Self.renderQueue.async { continuation.resume(with: Result { try self.renderReport(seller, report) }) }
                }
            })
        }
        return ["reportId": reportID]
    }

    func getReport(_ seller: SandboxSeller, id: String) async throws -> Any {
        guard let report = await state.report(id), report.seller == seller.sellerID else {
            throw Reply(response: Self.json(["errors": [["code": "NotFound", "message": "Report \(id) was not found."]]], status: .notFound))
        }
        let elapsed = await state.now() - report.created
        var status = report.outcome
        if elapsed < config.reportSeconds * 0.25 { status = "IN_QUEUE" } else if elapsed < config.reportSeconds { status = "IN_PROGRESS" }
        var body: [String: Any] = ["reportId": report.id, "reportType": report.type, "createdTime": report.createdTime,
                                   "processingStatus": status, "marketplaceIds": report.marketplaceIDs]
        if let s = report.start { body["dataStartTime"] = "\(s)T00:00:00Z" }
        if let e = report.end { body["dataEndTime"] = "\(e)T23:59:59Z" }
        if status == "DONE" || status == "FATAL" {
            body["processingStartTime"] = report.createdTime
            body["processingEndTime"] = report.createdTime
        }
        if status == "DONE" {
            let docID = report.documentID ?? "amzn1.spdoc.1.4.na.\(report.id)"
            if report.documentID == nil {
                await state.setReportDocument(report.id, documentID: docID)
                let rendered = await state.rendering(report.id)
                await state.addDocument(docID, try await rendered?.value ?? renderReport(seller, report))
            }
            body["reportDocumentId"] = docID
        }
        return body
    }

    func getReportDocument(_ seller: SandboxSeller, id: String, _ r: Incoming) async throws -> Any {
        guard let doc = await state.document(id), id.hasSuffix(".") == false else {
            throw Reply(response: Self.json(["errors": [["code": "NotFound", "message": "Report document \(id) was not found."]]], status: .notFound))
        }
        var body: [String: Any] = ["reportDocumentId": id, "url": "\(await state.baseURL)/_documents/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)"]
        if doc.gzip { body["compressionAlgorithm"] = "GZIP" }
        return body
    }

    /// The presigned-URL stand-in: no auth headers needed, gzip bytes as stored (or truncated by the fault).
    func documentDownload(_ r: Incoming, id: String) async throws -> Response {
        guard let doc = await state.document(id) else {
            return Self.raw("<Error><Code>NoSuchKey</Code></Error>", status: .notFound, contentType: "application/xml")
        }
        var bytes = doc.bytes
        var fault = r.headers[HTTPField.Name("x-optmazon-fault")!].flatMap(SandboxFault.init(rawValue:))
        if fault == nil { fault = await state.takeFault(operation: "download", seller: nil) }
        if fault == nil { fault = config.fault }
        if fault == .truncatedGzip { bytes = bytes.prefix(bytes.count / 2) }
        if fault == .serverError { return Self.raw("<Error><Code>InternalError</Code></Error>", status: .internalServerError, contentType: "application/xml") }
        return Self.raw(bytes, status: .ok, contentType: doc.contentType)
    }

    /// Where report documents are generated (off Swift's cooperative pool).
    static let renderQueue = DispatchQueue(label: "optmazon.sandbox.render", qos: .utility, attributes: .concurrent)

    func renderReport(_ seller: SandboxSeller, _ report: SandboxState.Report) throws -> SandboxState.Document {
        let products = world.products(of: seller)
        switch report.type {
        case "GET_MERCHANT_LISTINGS_ALL_DATA":
            let columns = ["item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
                           "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition", "zshop-category1",
                           "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3", "will-ship-internationally",
                           "expedited-shipping", "zshop-boldface", "product-id", "bid-for-featured-placement", "add-delete",
                           "pending-quantity", "fulfillment-channel", "merchant-shipping-group", "status", "Business Price"]
            var lines = [columns.joined(separator: "\t")]
            for p in products {
                let l = world.listing(seller, p, day: config.today)
                // Cp1252 characters (’ ™ é) exercise the charset handling.
                let name = p.index % 4 == 1 ? l.title.replacingOccurrences(of: ",", with: "’s") + " Caf\u{E9}\u{2122}" : l.title
                let row: [String: String] = ["item-name": name, "seller-sku": p.sku, "price": String(format: "%.2f", l.price),
                                             "quantity": String(l.quantity), "open-date": "2024-01-15 10:00:00 PST", "item-is-marketplace": "y",
                                             "product-id-type": "1", "item-condition": "11", "asin1": p.asin, "product-id": p.asin,
                                             "listing-id": "0115\(p.index)", "fulfillment-channel": l.fulfillment,
                                             "status": l.status.isEmpty ? "Inactive" : "Active"]
                lines.append(columns.map { (row[$0] ?? "").replacingOccurrences(of: "\t", with: " ") }.joined(separator: "\t"))
            }
            let text = lines.joined(separator: "\n") + "\n"
            return .init(bytes: Self.gzip(Self.cp1252(text)), contentType: "text/plain; charset=Cp1252", gzip: true)
        case "GET_SALES_AND_TRAFFIC_REPORT":
            let day = report.start.flatMap(Day.init(rawValue:)) ?? config.today
            let rows: [[String: Any]] = products.map { p in
                let t = world.traffic(seller, p, day: day)
                return ["parentAsin": p.asin, "childAsin": p.asin, "sku": p.sku,
                        "salesByAsin": ["unitsOrdered": t.units, "orderedProductSales": ["amount": t.sales, "currencyCode": "USD"], "totalOrderItems": t.units],
                        "trafficByAsin": ["browserSessions": t.sessions / 2, "mobileAppSessions": t.sessions - t.sessions / 2, "sessions": t.sessions,
                                          "browserSessionPercentage": 0.5, "mobileAppSessionPercentage": 0.5, "sessionPercentage": 0.1,
                                          "browserPageViews": t.pageViews / 2, "mobileAppPageViews": t.pageViews - t.pageViews / 2,
                                          "pageViews": t.pageViews, "browserPageViewsPercentage": 0.5, "mobileAppPageViewsPercentage": 0.5,
                                          "pageViewsPercentage": 0.1, "buyBoxPercentage": t.buyBox, "unitSessionPercentage": t.unitSession]]
            }
            let doc: [String: Any] = ["reportSpecification": ["reportType": report.type, "reportOptions": report.options,
                                                              "dataStartTime": day.rawValue, "dataEndTime": day.rawValue,
                                                              "marketplaceIds": report.marketplaceIDs],
                                      "salesAndTrafficByDate": [], "salesAndTrafficByAsin": rows]
            return .init(bytes: Self.gzip(try JSONSerialization.data(withJSONObject: doc)), contentType: "application/json", gzip: true)
        default:
            let start = report.start.flatMap(Day.init(rawValue:))!
            let end = report.end.flatMap(Day.init(rawValue:))!
            let asins = Set((report.options["asin"] ?? "").split(separator: " ").map(String.init))
            var rows: [[String: Any]] = []
            for p in products where asins.contains(p.asin) {
                for q in world.searchQueries(seller, p, weekStart: start) {
                    func share(_ a: Int, _ t: Int) -> Double { t == 0 ? 0 : (Double(a) / Double(t) * 10000).rounded() / 10000 }
                    func money(_ v: Double) -> [String: Any] { ["amount": v, "currencyCode": "USD"] }
                    rows.append(["startDate": start.rawValue, "endDate": end.rawValue, "asin": p.asin,
                                 "searchQueryData": ["searchQuery": q.query, "searchQueryScore": q.score, "searchQueryVolume": q.volume],
                                 "impressionData": ["totalQueryImpressionCount": q.totalImpressions, "asinImpressionCount": q.asinImpressions,
                                                    "asinImpressionShare": share(q.asinImpressions, q.totalImpressions)],
                                 "clickData": ["totalClickCount": q.totalClicks, "totalClickRate": share(q.totalClicks, q.totalImpressions),
                                               "asinClickCount": q.asinClicks, "asinClickShare": share(q.asinClicks, q.totalClicks),
                                               "totalMedianClickPrice": money(24.99), "asinMedianClickPrice": money(22.99),
                                               "totalSameDayShippingClickCount": 0, "totalOneDayShippingClickCount": q.totalClicks / 3,
                                               "totalTwoDayShippingClickCount": q.totalClicks / 2],
                                 "cartAddData": ["totalCartAddCount": q.totalCartAdds, "totalCartAddRate": share(q.totalCartAdds, q.totalImpressions),
                                                 "asinCartAddCount": q.asinCartAdds, "asinCartAddShare": share(q.asinCartAdds, q.totalCartAdds),
                                                 "totalMedianCartAddPrice": money(24.99), "asinMedianCartAddPrice": money(22.99),
                                                 "totalSameDayShippingCartAddCount": 0, "totalOneDayShippingCartAddCount": q.totalCartAdds / 3,
                                                 "totalTwoDayShippingCartAddCount": q.totalCartAdds / 2],
                                 "purchaseData": ["totalPurchaseCount": q.totalPurchases, "totalPurchaseRate": share(q.totalPurchases, q.totalImpressions),
                                                  "asinPurchaseCount": q.asinPurchases, "asinPurchaseShare": share(q.asinPurchases, q.totalPurchases),
                                                  "totalMedianPurchasePrice": money(24.99), "asinMedianPurchasePrice": money(22.99),
                                                  "totalSameDayShippingPurchaseCount": 0, "totalOneDayShippingPurchaseCount": q.totalPurchases / 3,
                                                  "totalTwoDayShippingPurchaseCount": q.totalPurchases / 2]])
                }
            }
            let doc: [String: Any] = ["reportSpecification": ["reportType": report.type, "reportOptions": report.options,
                                                              "dataStartTime": start.rawValue, "dataEndTime": end.rawValue,
                                                              "marketplaceIds": report.marketplaceIDs], "dataByAsin": rows]
            return .init(bytes: Self.gzip(try JSONSerialization.data(withJSONObject: doc)), contentType: "application/json", gzip: true)
        }
    }

    static func cp1252(_ text: String) -> Data {
        let high: [UInt32: UInt8] = [0x20AC: 0x80, 0x2018: 0x91, 0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2013: 0x96, 0x2014: 0x97, 0x2122: 0x99]
        var out = Data()
        for scalar in text.unicodeScalars {
            if scalar.value < 0x100, !(0x80...0x9F).contains(scalar.value) { out.append(UInt8(scalar.value)) }
            else { out.append(high[scalar.value] ?? UInt8(ascii: "?")) }
        }
        return out
    }

    // MARK: Listings and catalog

    func marketplace(_ r: Incoming, _ key: String) throws -> String {
        guard let m = r.query[key], !m.isEmpty else { throw Self.badRequest("Missing required parameter '\(key)'") }
        return m
    }

    func listingsItem(_ seller: SandboxSeller, _ r: Incoming, sellerID: String, sku: String, pii: Bool) throws -> Any {
        let marketplace = try marketplace(r, "marketplaceIds")
        guard sellerID == seller.sellerID, let p = world.product(of: seller, sku: sku) else {
            throw Reply(response: Self.json(["errors": [["code": "NOT_FOUND", "message": "SKU '\(sku)' not found in marketplace \(marketplace)"]]], status: .notFound))
        }
        let included = Set((r.query["includedData"] ?? "summaries").split(separator: ",").map(String.init))
        let l = world.listing(seller, p, day: config.today)
        func attr(_ v: String) -> [String: Any] { ["value": v, "language_tag": "en_US", "marketplace_id": marketplace] }
        var body: [String: Any] = ["sku": p.sku]
        if included.contains("summaries") {
            body["summaries"] = [["marketplaceId": marketplace, "asin": p.asin, "productType": l.productType, "conditionType": "new_new",
                                  "status": l.status, "itemName": l.title, "createdDate": "2024-01-15T10:00:00Z",
                                  "lastUpdatedDate": "\(config.today.rawValue)T06:00:00Z",
                                  "mainImage": ["link": "https://m.media-amazon.com/images/I/\(p.asin).jpg", "height": 500, "width": 500]]]
        }
        if included.contains("attributes") {
            var attributes: [String: Any] = ["item_name": [attr(l.title)], "bullet_point": l.bullets.map(attr),
                                             "product_description": [attr(l.description)], "generic_keyword": [attr(l.genericKeyword)],
                                             "list_price": [["value": l.price, "currency": "USD", "marketplace_id": marketplace]]]
            if let brand = l.brand { attributes["brand"] = [attr(brand)] }
            if pii {
                attributes["product_description"] = [attr("Gift for Jane Doe — ship to: John Smith, 123 Main Street, Springfield, call +1 206-555-0143 or email john.smith@example.com")]
                attributes["bullet_point"] = (l.bullets + ["Questions? Call (206) 555-0199", "Buyer: Mary Johnson"]).map(attr)
                attributes["generic_keyword"] = [attr("jane.doe@example.org")]
            }
            body["attributes"] = attributes
        }
        if included.contains("issues") {
            body["issues"] = l.issues.map { ["code": $0.code, "message": $0.message, "severity": $0.severity, "categories": ["MISSING_ATTRIBUTE"],
                                             "marketplaceIds": [marketplace]] as [String: Any] }
        }
        return body
    }

    func catalogItem(_ seller: SandboxSeller, _ r: Incoming, asin: String) throws -> Any {
        let marketplace = try marketplace(r, "marketplaceIds")
        guard let p = world.product(of: seller, asin: asin) else {
            throw Reply(response: Self.json(["errors": [["code": "NOT_FOUND", "message": "Requested item '\(asin)' not found in marketplace(s) \(marketplace)."]]], status: .notFound))
        }
        let l = world.listing(seller, p, day: config.today)
        return ["asin": asin,
                "summaries": [["marketplaceId": marketplace, "brand": "Brand\(seller.sellerID.suffix(3))", "itemName": l.title,
                               "itemClassification": "BASE_PRODUCT", "manufacturer": "Sandbox Manufacturing"]],
                "salesRanks": [["marketplaceId": marketplace, "displayGroupRanks": [["websiteDisplayGroup": "home_display_on_website", "title": "Home & Kitchen",
                                                                                     "rank": 1000 + p.index * 37]]]]]
    }

    // MARK: Pricing

    func itemOffersBatch(_ seller: SandboxSeller, _ r: Incoming) throws -> Any {
        guard let body = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any], let requests = body["requests"] as? [[String: Any]],
              (1...20).contains(requests.count) else {
            throw Self.badRequest("requests must contain 1 to 20 items")
        }
        let responses: [[String: Any]] = try requests.map { req in
            guard let uri = req["uri"] as? String, req["method"] as? String == "GET", let marketplace = req["MarketplaceId"] as? String,
                  let condition = req["ItemCondition"] as? String, uri.hasPrefix("/products/pricing/v0/items/"), uri.hasSuffix("/offers") else {
                throw Self.badRequest("each request needs uri, method GET, MarketplaceId and ItemCondition")
            }
            let asin = String(uri.dropFirst("/products/pricing/v0/items/".count).dropLast("/offers".count))
            let echo: [String: Any] = ["MarketplaceId": marketplace, "Asin": asin, "ItemCondition": condition, "CustomerType": req["CustomerType"] as? String ?? "Consumer"]
            guard let p = world.product(of: seller, asin: asin) else {
                return ["status": ["statusCode": 400, "reasonPhrase": "Client Error"], "headers": [:] as [String: Any], "request": echo,
                        "body": ["errors": [["code": "InvalidInput", "message": "Invalid ASIN", "details": ""]]]]
            }
            let offers = world.offers(seller, p, day: config.today)
            func money(_ v: Double) -> [String: Any] { ["CurrencyCode": "USD", "Amount": v] }
            let winner = offers.first { $0.buyBox }
            var summary: [String: Any] = [
                "TotalOfferCount": offers.count,
                "NumberOfOffers": [["condition": "new", "fulfillmentChannel": "Amazon", "OfferCount": offers.filter(\.fba).count],
                                   ["condition": "new", "fulfillmentChannel": "Merchant", "OfferCount": offers.filter { !$0.fba }.count]],
                "LowestPrices": [["condition": "new", "fulfillmentChannel": "Merchant", "LandedPrice": money(offers.map { $0.price + $0.shipping }.min()!),
                                  "ListingPrice": money(offers.map(\.price).min()!), "Shipping": money(0)]],
            ]
            if let winner {
                summary["BuyBoxPrices"] = [["condition": "New", "LandedPrice": money(((winner.price + winner.shipping) * 100).rounded() / 100),
                                            "ListingPrice": money(winner.price), "Shipping": money(winner.shipping), "sellerId": winner.sellerID]]
            }
            let offerBodies: [[String: Any]] = offers.map { o in
                ["MyOffer": o.mine, "SellerId": o.sellerID, "SubCondition": "new", "ListingPrice": money(o.price), "Shipping": money(o.shipping),
                 "ShippingTime": ["maximumHours": 48, "minimumHours": 24, "availabilityType": "NOW"], "IsFulfilledByAmazon": o.fba,
                 "IsBuyBoxWinner": o.buyBox, "IsFeaturedMerchant": true, "PrimeInformation": ["IsPrime": o.fba, "IsNationalPrime": o.fba]]
            }
            return ["status": ["statusCode": 200, "reasonPhrase": "OK"], "headers": ["x-amzn-RequestId": UUID().uuidString.lowercased()], "request": echo,
                    "body": ["payload": ["ASIN": asin, "status": "Success", "ItemCondition": condition, "marketplaceId": marketplace,
                                         "Identifier": ["MarketplaceId": marketplace, "ItemCondition": condition, "ASIN": asin],
                                         "Summary": summary, "Offers": offerBodies]]]
        }
        return ["responses": responses]
    }

    func competitivePricing(_ seller: SandboxSeller, _ r: Incoming) throws -> Any {
        let marketplace = try marketplace(r, "MarketplaceId")
        guard r.query["ItemType"] == "Asin", let list = r.query["Asins"] else { throw Self.badRequest("ItemType=Asin and Asins are required") }
        let asins = list.split(separator: ",").map(String.init)
        guard (1...20).contains(asins.count) else { throw Self.badRequest("Asins allows 1 to 20 values") }
        return ["payload": asins.map { asin -> [String: Any] in
            guard let p = world.product(of: seller, asin: asin) else {
                return ["status": "ClientError", "ASIN": asin]
            }
            let offers = world.offers(seller, p, day: config.today)
            var prices: [[String: Any]] = []
            if let w = offers.first(where: \.buyBox) {
                prices.append(["CompetitivePriceId": "1", "condition": "New", "belongsToRequester": w.mine,
                               "Price": ["LandedPrice": ["CurrencyCode": "USD", "Amount": ((w.price + w.shipping) * 100).rounded() / 100],
                                         "ListingPrice": ["CurrencyCode": "USD", "Amount": w.price], "Shipping": ["CurrencyCode": "USD", "Amount": w.shipping]]])
            }
            return ["status": "Success", "ASIN": asin,
                    "Product": ["Identifiers": ["MarketplaceASIN": ["MarketplaceId": marketplace, "ASIN": asin]],
                                "CompetitivePricing": ["CompetitivePrices": prices, "NumberOfOfferListings": [["condition": "New", "Count": offers.count]]],
                                "SalesRankings": [["ProductCategoryId": "home_display_on_website", "Rank": 1000 + p.index * 37]]]]
        }]
    }

    func foepBatch(_ seller: SandboxSeller, _ r: Incoming) throws -> Any {
        guard let body = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any], let requests = body["requests"] as? [[String: Any]],
              (1...40).contains(requests.count) else {
            throw Self.badRequest("requests must contain 1 to 40 items")
        }
        return ["responses": try requests.map { req -> [String: Any] in
            guard req["uri"] as? String == "/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice", req["method"] as? String == "GET",
                  let marketplace = req["marketplaceId"] as? String, let sku = req["sku"] as? String else {
                throw Self.badRequest("each request needs uri, method GET, marketplaceId and sku")
            }
            let echo: [String: Any] = ["marketplaceId": marketplace, "sku": sku]
            guard let p = world.product(of: seller, sku: sku) else {
                return ["request": echo, "status": ["statusCode": 400, "reasonPhrase": "Client Error"], "headers": [:] as [String: Any],
                        "body": ["errors": [["code": "INVALID_SKU", "message": "The requested SKU does not exist for the seller in the requested Amazon store."]]]]
            }
            let offers = world.offers(seller, p, day: config.today)
            let competitors = offers.filter { !$0.mine }
            let identifier: [String: Any] = ["asin": p.asin, "sku": sku, "marketplaceId": marketplace, "fulfillmentType": "AFN", "sellerId": seller.sellerID]
            var result: [String: Any]
            if let best = competitors.min(by: { $0.price + $0.shipping < $1.price + $1.shipping }) {
                result = ["resultStatus": "VALID_FOEP",
                          "featuredOfferExpectedPrice": ["listingPrice": ["amount": ((best.price + best.shipping - 0.01) * 100).rounded() / 100, "currencyCode": "USD"]],
                          "competingFeaturedOffer": ["offerIdentifier": ["asin": p.asin, "marketplaceId": marketplace, "fulfillmentType": best.fba ? "AFN" : "MFN",
                                                                         "sellerId": best.sellerID],
                                                     "condition": "New",
                                                     "price": ["listingPrice": ["amount": best.price, "currencyCode": "USD"],
                                                               "shippingPrice": ["amount": best.shipping, "currencyCode": "USD"]]]]
            } else {
                result = ["resultStatus": "NO_COMPETING_OFFER"]
            }
            return ["request": echo, "status": ["statusCode": 200, "reasonPhrase": "Success"], "headers": [:] as [String: Any],
                    "body": ["offerIdentifier": identifier, "featuredOfferExpectedPriceResults": [result]]]
        }]
    }

    // MARK: Ads

    func profiles(_ seller: SandboxSeller) -> Any {
        [["profileId": Int64(seller.adsProfileID)!, "countryCode": "US", "currencyCode": "USD", "timezone": "America/Los_Angeles", "dailyBudget": 999999999,
          "accountInfo": ["marketplaceStringId": seller.marketplaceID, "id": seller.sellerID, "type": "seller", "name": "Sandbox Store \(seller.index + 1)",
                          "validPaymentMethod": true]]]
    }

    func adsList(_ seller: SandboxSeller, kind: String, _ r: Incoming) throws -> Any {
        let filter = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]) ?? [:]
        let maxResults = min(1000, max(1, filter["maxResults"] as? Int ?? 1000))
        let offset = (filter["nextToken"] as? String).flatMap { Int($0.dropFirst("page-".count)) } ?? 0
        let items: [[String: Any]]
        let key: String
        switch kind {
        case "campaigns":
            key = "campaigns"
            items = world.campaigns(seller).map {
                ["campaignId": $0.id, "name": $0.name, "state": $0.state, "targetingType": $0.targeting, "startDate": "2024-01-15",
                 "budget": ["budget": $0.budget, "budgetType": "DAILY"], "premiumBidAdjustment": false,
                 "dynamicBidding": ["placementBidding": [] as [Any], "strategy": "LEGACY_FOR_SALES"]]
            }
        case "adGroups":
            key = "adGroups"
            items = world.adGroups(seller).map { ["adGroupId": $0.id, "campaignId": $0.campaignID, "name": $0.name, "state": "ENABLED", "defaultBid": $0.defaultBid] }
        case "keywords":
            key = "keywords"
            items = world.keywords(seller).map { ["keywordId": $0.id, "adGroupId": $0.groupID, "campaignId": $0.campaignID, "keywordText": $0.text,
                                                  "matchType": $0.matchType, "state": "ENABLED", "bid": $0.bid] }
        default:
            key = "targetingClauses"
            items = world.targets(seller).map { t in
                var item: [String: Any] = ["targetId": t.id, "adGroupId": t.groupID, "campaignId": t.campaignID, "expression": [["type": t.type]],
                                           "resolvedExpression": [["type": t.type]], "expressionType": "AUTO", "state": "ENABLED"]
                if let bid = t.bid { item["bid"] = bid }
                return item
            }
        }
        let page = Array(items.dropFirst(offset).prefix(maxResults))
        var out: [String: Any] = [key: page, "totalResults": items.count]
        if offset + page.count < items.count { out["nextToken"] = "page-\(offset + page.count)" }
        return out
    }

    func createAdsReport(_ seller: SandboxSeller, _ r: Incoming) async throws -> Any {
        guard let body = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any],
              let start = (body["startDate"] as? String).flatMap(Day.init(rawValue:)), let end = (body["endDate"] as? String).flatMap(Day.init(rawValue:)),
              let configuration = body["configuration"] as? [String: Any], configuration["adProduct"] as? String == "SPONSORED_PRODUCTS",
              let type = configuration["reportTypeId"] as? String, ["spCampaigns", "spTargeting", "spSearchTerm"].contains(type),
              let groupBy = configuration["groupBy"] as? [String], !groupBy.isEmpty, let columns = configuration["columns"] as? [String],
              let timeUnit = configuration["timeUnit"] as? String, ["DAILY", "SUMMARY"].contains(timeUnit),
              configuration["format"] as? String == "GZIP_JSON" else {
            throw Self.badRequest("invalid report request", ads: true)
        }
        guard start <= end, start.days(until: end) <= 30 else { throw Self.badRequest("date range exceeds 31 days", ads: true) }
        let id = UUID().uuidString.lowercased()
        let keyData = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var stored = body
        stored["columns"] = columns
        if let duplicate = await state.addAdsReport(.init(id: id, seller: seller.sellerID, created: await state.now(),
                                                          request: try JSONSerialization.data(withJSONObject: stored),
                                                          key: String(decoding: keyData, as: UTF8.self)), processing: config.reportSeconds) {
            throw Reply(response: Self.json(["code": "425", "detail": "The Request is a duplicate of : \(duplicate)"],
                                            status: .init(code: 425, reasonPhrase: "Too Early")))
        }
        return adsReportBody(id: id, request: body, status: "PENDING", url: nil)
    }

    func adsReportBody(id: String, request: [String: Any], status: String, url: String?) -> [String: Any] {
        var configuration = request["configuration"] as? [String: Any] ?? [:]
        if configuration["filters"] == nil { configuration["filters"] = NSNull() }
        return ["reportId": id, "status": status, "name": request["name"] ?? NSNull(), "startDate": request["startDate"] ?? NSNull(),
                "endDate": request["endDate"] ?? NSNull(), "configuration": configuration, "createdAt": "\(config.today.rawValue)T00:00:00.000Z",
                "updatedAt": "\(config.today.rawValue)T00:00:00.000Z", "generatedAt": url == nil ? NSNull() : "\(config.today.rawValue)T00:01:00.000Z",
                "fileSize": url == nil ? NSNull() : 1024, "url": url ?? NSNull(),
                "urlExpiresAt": url == nil ? NSNull() : "\(config.today.rawValue)T01:00:00.000Z", "failureReason": NSNull()]
    }

    func getAdsReport(_ seller: SandboxSeller, id: String) async throws -> Any {
        guard let report = await state.adsReport(id), report.seller == seller.sellerID else {
            throw Reply(response: Self.json(["code": "NOT_FOUND", "details": "Report not found"], status: .notFound))
        }
        let elapsed = await state.now() - report.created
        let request = (try? JSONSerialization.jsonObject(with: report.request) as? [String: Any]) ?? [:]
        if elapsed < config.reportSeconds * 0.25 { return adsReportBody(id: id, request: request, status: "PENDING", url: nil) }
        if elapsed < config.reportSeconds { return adsReportBody(id: id, request: request, status: "PROCESSING", url: nil) }
        let docID = "ads-\(id)"
        if await state.document(docID) == nil {
            await state.addDocument(docID, .init(bytes: Self.gzip(try renderAdsReport(seller, request)), contentType: "application/json", gzip: true))
        }
        return adsReportBody(id: id, request: request, status: "COMPLETED", url: "\(await state.baseURL)/_documents/\(docID)")
    }

    func renderAdsReport(_ seller: SandboxSeller, _ request: [String: Any]) throws -> Data {
        let configuration = request["configuration"] as! [String: Any]
        let type = configuration["reportTypeId"] as! String
        let columns = configuration["columns"] as! [String]
        let start = Day(rawValue: request["startDate"] as! String)!
        let end = Day(rawValue: request["endDate"] as! String)!
        var rows: [[String: Any]] = []
        var day = start
        while day <= end {
            switch type {
            case "spCampaigns":
                let keywords = world.keywords(seller)
                let targets = world.targets(seller)
                for c in world.campaigns(seller) {
                    var m = SandboxWorld.Metrics(impressions: 0, clicks: 0, cost: 0, purchases: 0, sales: 0)
                    for k in keywords where k.campaignID == c.id { m = add(m, world.metrics(profile: k.profile, id: k.id, day: day)) }
                    for t in targets where t.campaignID == c.id { m = add(m, world.metrics(profile: t.profile, id: t.id, day: day)) }
                    rows.append(["date": day.rawValue, "campaignId": Int64(c.id)!, "campaignName": c.name, "campaignStatus": c.state] + metricColumns(m))
                }
            case "spTargeting":
                for k in world.keywords(seller) {
                    rows.append(["date": day.rawValue, "campaignId": Int64(k.campaignID)!, "adGroupId": Int64(k.groupID)!, "keywordId": Int64(k.id)!,
                                 "keyword": k.text, "targeting": k.text, "keywordType": k.matchType, "matchType": k.matchType, "keywordBid": k.bid]
                                + metricColumns(world.metrics(profile: k.profile, id: k.id, day: day)))
                }
                for t in world.targets(seller) {
                    rows.append(["date": day.rawValue, "campaignId": Int64(t.campaignID)!, "adGroupId": Int64(t.groupID)!, "keywordId": Int64(t.id)!,
                                 "targeting": t.type.lowercased().replacingOccurrences(of: "_", with: "-"), "keywordType": "TARGETING_EXPRESSION_PREDEFINED",
                                 "matchType": "TARGETING_EXPRESSION_PREDEFINED"] + metricColumns(world.metrics(profile: t.profile, id: t.id, day: day)))
                }
            default:
                for k in world.keywords(seller) {
                    let m = world.metrics(profile: k.profile, id: k.id, day: day)
                    guard m.clicks > 0 else { continue }  // Amazon: only search terms with at least one click
                    let terms = [k.text, "\(k.text) for kids", "\(k.text) xl"]
                    for (i, term) in terms.enumerated() {
                        let share = [0.6, 0.3, 0.1][i]
                        let part = SandboxWorld.Metrics(impressions: Int(Double(m.impressions) * share), clicks: max(1, Int(Double(m.clicks) * share)),
                                                        cost: (m.cost * share * 100).rounded() / 100, purchases: i == 0 ? m.purchases : 0,
                                                        sales: i == 0 ? m.sales : 0)
                        rows.append(["date": day.rawValue, "campaignId": Int64(k.campaignID)!, "adGroupId": Int64(k.groupID)!, "keywordId": Int64(k.id)!,
                                     "searchTerm": term, "targeting": k.text, "keyword": k.text, "matchType": k.matchType] + metricColumns(part))
                    }
                }
            }
            day = day.adding(days: 1)
        }
        let projected = rows.map { row in row.filter { columns.contains($0.key) } }
        return try JSONSerialization.data(withJSONObject: projected)
    }

    func add(_ a: SandboxWorld.Metrics, _ b: SandboxWorld.Metrics) -> SandboxWorld.Metrics {
        .init(impressions: a.impressions + b.impressions, clicks: a.clicks + b.clicks, cost: a.cost + b.cost, purchases: a.purchases + b.purchases, sales: a.sales + b.sales)
    }

    func metricColumns(_ m: SandboxWorld.Metrics) -> [String: Any] {
        ["impressions": m.impressions, "clicks": m.clicks, "cost": (m.cost * 100).rounded() / 100, "spend": (m.cost * 100).rounded() / 100,
         "purchases7d": m.purchases, "sales7d": (m.sales * 100).rounded() / 100, "purchases14d": m.purchases, "sales14d": (m.sales * 100).rounded() / 100]
    }
}

func + (lhs: [String: Any], rhs: [String: Any]) -> [String: Any] { lhs.merging(rhs) { a, _ in a } }
