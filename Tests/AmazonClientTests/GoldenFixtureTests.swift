@testable import AmazonClient
import Foundation
import Testing

/// Amazon's own examples (`x-amzn-api-sandbox` in the models, schema examples, Postman saved responses)
/// must decode with the client's wire types: they are the independent reference for field names and shapes.
@Suite("Golden fixtures from shared/spapi")
struct GoldenFixtureTests {
    static func modelExamples(_ file: String, path: String, method: String, status: String) throws -> [Data] {
        guard let dir = spapiReferenceDirectory() else { return [] }
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("models/\(file)"))) as! [String: Any]
        let op = ((model["paths"] as! [String: Any])[path] as! [String: Any])[method] as! [String: Any]
        let response = (op["responses"] as! [String: Any])[status] as! [String: Any]
        let examples = ((response["x-amzn-api-sandbox"] as? [String: Any])?["static"] as? [[String: Any]]) ?? []
        return try examples.map { try JSONSerialization.data(withJSONObject: $0["response"]!) }
    }

    func decodeAll<T: Decodable>(_ type: T.Type, _ data: [Data], operation: String) throws -> [T] {
        try data.map { try AmazonClient.decode(T.self, data: $0, operation: operation) }
    }

    @Test("SP-API model examples decode")
    func spapiExamples() throws {
        try #require(spapiReferenceDirectory() != nil, "shared/spapi not found beside the package")
        let participations = try decodeAll(MarketplaceParticipationsResponse.self,
            Self.modelExamples("sellers-api-model/sellers.json", path: "/sellers/v1/marketplaceParticipations", method: "get", status: "200"), operation: "getMarketplaceParticipations")
        #expect(participations.first?.payload?.first?.marketplace.id == "ATVPDKIKX0DER")
        let listings = try decodeAll(ListingsItem.self,
            Self.modelExamples("listings-items-api-model/listingsItems_2021-08-01.json", path: "/listings/2021-08-01/items/{sellerId}/{sku}", method: "get", status: "200"), operation: "getListingsItem")
        #expect(listings.first?.sku == "GM-ZDPI-9B4E")
        #expect(listings.first?.offers?.first?.price.amount.value == 100)
        #expect(listings.first?.issues?.count == 5)
        let catalog = try decodeAll(CatalogItem.self,
            Self.modelExamples("catalog-items-api-model/catalogItems_2022-04-01.json", path: "/catalog/2022-04-01/items/{asin}", method: "get", status: "200"), operation: "getCatalogItem")
        #expect(catalog.first?.summaries?.first?.brand == "SAMSUNG")
        let offers = try decodeAll(ItemOffersBatchResponse.self,
            Self.modelExamples("product-pricing-api-model/productPricingV0.json", path: "/batches/products/pricing/v0/itemOffers", method: "post", status: "200"), operation: "getItemOffersBatch")
        #expect(offers.first?.responses?.count == 10)
        #expect(offers.first?.responses?.first?.body.payload?.Offers.first?.IsBuyBoxWinner == true)
        let competitive = try decodeAll(CompetitivePricingResponse.self,
            Self.modelExamples("product-pricing-api-model/productPricingV0.json", path: "/products/pricing/v0/competitivePrice", method: "get", status: "200"), operation: "getCompetitivePricing")
        #expect(competitive.count == 3)
        let foep = try decodeAll(FOEPBatchResponse.self,
            Self.modelExamples("product-pricing-api-model/productPricing_2022-05-01.json", path: "/batches/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice", method: "post", status: "200"), operation: "getFeaturedOfferExpectedPriceBatch")
        #expect(foep.first?.responses.first?.body?.featuredOfferExpectedPriceResults?.first?.featuredOfferExpectedPrice?.listingPrice.amount == 10)
        let created = try decodeAll(CreateReportResponse.self,
            Self.modelExamples("reports-api-model/reports_2021-06-30.json", path: "/reports/2021-06-30/reports", method: "post", status: "202"), operation: "createReport")
        #expect(created.first?.reportId == "ID323")
        let report = try decodeAll(ReportStatus.self,
            Self.modelExamples("reports-api-model/reports_2021-06-30.json", path: "/reports/2021-06-30/reports/{reportId}", method: "get", status: "200"), operation: "getReport")
        #expect(report.first?.processingStatus == "IN_PROGRESS")
        let document = try decodeAll(ReportDocumentInfo.self,
            Self.modelExamples("reports-api-model/reports_2021-06-30.json", path: "/reports/2021-06-30/documents/{reportDocumentId}", method: "get", status: "200"), operation: "getReportDocument")
        #expect(document.first?.compressionAlgorithm == nil && document.first?.url.hasPrefix("https://") == true)
    }

    @Test("Report document schema examples decode and map")
    func reportSchemaExamples() throws {
        let dir = try #require(spapiReferenceDirectory())
        func example(_ name: String) throws -> Data {
            let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("schemas/reports/\(name)"))) as! [String: Any]
            return try JSONSerialization.data(withJSONObject: (schema["examples"] as! [Any])[0])
        }
        let sqp = try AmazonClient.decode(SQPDocument.self, data: example("sellingPartnerSearchQueryPerformanceReport.json"), operation: "SQP")
        #expect(sqp.dataByAsin.first?.searchQueryData.searchQuery == "wireless headphones")
        #expect(sqp.dataByAsin.first?.impressionData.asinImpressionShare == 0.0765)
        let sat = try AmazonClient.decode(SalesTrafficDocument.self, data: example("sellerSalesAndTrafficReport.json"), operation: "S&T")
        #expect(sat.salesAndTrafficByAsin.first?.trafficByAsin.buyBoxPercentage == 95.24)
    }

    @Test("Ads Postman saved responses decode")
    func adsExamples() throws {
        let dir = try #require(spapiReferenceDirectory())
        let collection = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("ads/amazon-ads-api.subset.postman_collection.json"))) as! [String: Any]
        func find(_ items: [[String: Any]], _ name: String) -> [String: Any]? {
            for item in items {
                if let children = item["item"] as? [[String: Any]], let hit = find(children, name) { return hit }
                if item["name"] as? String == name { return item }
            }
            return nil
        }
        func bodies(_ name: String) throws -> [Data] {
            let item = try #require(find(collection["item"] as! [[String: Any]], name))
            return ((item["response"] as? [[String: Any]]) ?? []).compactMap { ($0["body"] as? String).map { Data($0.utf8) } }
        }
        #expect(try decodeAll(AdsCampaignList.self, bodies("List campaigns"), operation: "campaigns").first?.campaigns.first?.campaignId.value == "52978233888897")
        #expect(try decodeAll(AdsAdGroupList.self, bodies("List ad groups"), operation: "adGroups").first?.adGroups.first?.defaultBid == 100)
        #expect(try decodeAll(AdsKeywordList.self, bodies("List keywords"), operation: "keywords").first?.keywords.first?.keywordText == "soap bar")
        #expect(try decodeAll(AdsTargetList.self, bodies("List targets"), operation: "targets").first?.targetingClauses.count == 4)
        let status = try decodeAll(AdsReport.self, bodies("Report status"), operation: "report")
        #expect(status.map(\.status) == ["PENDING", "COMPLETED"])
        #expect(try decodeAll(AdsReport.self, bodies("Create report"), operation: "report").allSatisfy { $0.status == "PENDING" })
        // Report rows carry numeric ids (ADS.md §4).
        let rows = try AmazonClient.decode([AdsMetricWire].self, data: Data(#"[{"campaignId":158410630682987,"adGroupId":72320882861500,"impressions":2216,"clicks":13,"cost":14.5,"purchases7d":2,"date":"2022-07-05"}]"#.utf8), operation: "spCampaigns")
        #expect(rows.first?.campaignId?.value == "158410630682987")
    }
}
