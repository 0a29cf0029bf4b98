import Domain
import Foundation

/// An Ads API profile (`GET /v2/profiles`): the advertiser account of one marketplace.
public struct AdsProfile: Sendable, Hashable, Codable {
    public var profileID: String
    public var countryCode: String
    public var currencyCode: String
    public var marketplaceID: String
    /// `seller`, `vendor` or `agency`.
    public var accountType: String
}

extension AmazonClient {
    /// The seller's Ads profiles on the configured (regional) Ads host.
    public func fetchAdsProfiles(seller: SellerAuthorization) async throws(AmazonClientError) -> [AdsProfile] {
        let response = try await call(seller, .adsProfiles, method: .GET, path: "/v2/profiles")
        return try decode([AdsProfileWire].self, response, operation: "listProfiles").map {
            AdsProfile(profileID: $0.profileId.value, countryCode: $0.countryCode, currencyCode: $0.currencyCode,
                       marketplaceID: $0.accountInfo.marketplaceStringId, accountType: $0.accountInfo.type)
        }
    }

    /// The seller-type profile for `marketplace` (profiles are matched by `accountInfo.marketplaceStringId`).
    public func adsProfile(seller: SellerAuthorization, marketplace: String) async throws(AmazonClientError) -> AdsProfile {
        let profiles = try await fetchAdsProfiles(seller: seller)
        guard let profile = profiles.first(where: { $0.marketplaceID == marketplace && $0.accountType == "seller" })
            ?? profiles.first(where: { $0.marketplaceID == marketplace }) else {
            throw .adsNotConnected(seller: seller.sellerID, marketplace: marketplace)
        }
        return profile
    }

    /// Sponsored Products campaigns (`POST /sp/campaigns/list`, all pages).
    public func fetchAdCampaigns(seller: SellerAuthorization, profile: AdsProfile, day: Day) async throws(AmazonClientError) -> [AdCampaign] {
        let campaigns = try await listAll(seller, .adsListCampaigns, path: "/sp/campaigns/list", mediaType: "application/vnd.spCampaign.v3+json",
                                          profile: profile, type: AdsCampaignList.self) { ($0.campaigns, $0.nextToken) }
        let out = campaigns.map {
            AdCampaign(day: day, campaignID: $0.campaignId.value, name: $0.name, state: $0.state, targetingType: $0.targetingType, dailyBudget: $0.budget.budget)
        }
        return firewall.filter(out, dataSet: "adCampaigns", seller: seller.sellerID)
    }

    /// Sponsored Products ad groups with default bids (`POST /sp/adGroups/list`).
    public func fetchAdGroups(seller: SellerAuthorization, profile: AdsProfile, day: Day) async throws(AmazonClientError) -> [AdGroup] {
        let groups = try await listAll(seller, .adsListAdGroups, path: "/sp/adGroups/list", mediaType: "application/vnd.spAdGroup.v3+json",
                                       profile: profile, type: AdsAdGroupList.self) { ($0.adGroups, $0.nextToken) }
        let out = groups.map {
            AdGroup(day: day, adGroupID: $0.adGroupId.value, campaignID: $0.campaignId.value, name: $0.name, state: $0.state, defaultBid: $0.defaultBid)
        }
        return firewall.filter(out, dataSet: "adGroups", seller: seller.sellerID)
    }

    /// Keywords (`/sp/keywords/list`) and product/auto targets (`/sp/targets/list`) with their current bids.
    public func fetchAdTargets(seller: SellerAuthorization, profile: AdsProfile, day: Day) async throws(AmazonClientError) -> [AdTarget] {
        let keywords = try await listAll(seller, .adsListKeywords, path: "/sp/keywords/list", mediaType: "application/vnd.spKeyword.v3+json",
                                         profile: profile, type: AdsKeywordList.self) { ($0.keywords, $0.nextToken) }
        let targets = try await listAll(seller, .adsListTargets, path: "/sp/targets/list", mediaType: "application/vnd.spTargetingClause.v3+json",
                                        profile: profile, type: AdsTargetList.self) { ($0.targetingClauses, $0.nextToken) }
        var out = keywords.map {
            AdTarget(day: day, targetID: $0.keywordId.value, adGroupID: $0.adGroupId.value, campaignID: $0.campaignId.value, kind: .keyword,
                     text: $0.keywordText, matchType: $0.matchType, state: $0.state, bid: $0.bid)
        }
        out += targets.map { t in
            let expression = (t.expression ?? t.resolvedExpression ?? []).map { (e: AdsTargetList.Target.Expression) -> String in
                if let v = e.value { return "\(e.type)=\"\(v)\"" }
                return e.type
            }
            return AdTarget(day: day, targetID: t.targetId.value, adGroupID: t.adGroupId.value, campaignID: t.campaignId.value, kind: .target,
                            text: expression.joined(separator: " "), matchType: t.expressionType == "AUTO" ? "TARGETING_EXPRESSION_PREDEFINED" : "TARGETING_EXPRESSION",
                            state: t.state, bid: t.bid)
        }
        return firewall.filter(out, dataSet: "adTargets", seller: seller.sellerID)
    }

    /// The settled reporting window: `days` days ending 3 days before `today` (today and the two days before
    /// it are still being restated by Amazon and are left out).
    public static func settledWindow(today: Day, days: Int) -> (start: Day, end: Day) {
        let end = today.adding(days: -3)
        return (end.adding(days: -(max(1, min(days, 31)) - 1)), end)
    }

    /// Daily campaign metrics (spCampaigns) and keyword/target metrics (spTargeting) for the settled window.
    public func fetchAdMetrics(seller: SellerAuthorization, profile: AdsProfile, today: Day, days: Int = 14) async throws(AmazonClientError) -> [AdMetricRow] {
        let window = Self.settledWindow(today: today, days: days)
        let campaignRows = try await adsReport(seller, profile: profile, reportType: "spCampaigns", groupBy: ["campaign"],
                                               columns: ["date", "campaignId", "impressions", "clicks", "cost", "purchases7d", "sales7d"], window: window)
        let targetRows = try await adsReport(seller, profile: profile, reportType: "spTargeting", groupBy: ["targeting"],
                                             columns: ["date", "campaignId", "adGroupId", "keywordId", "targeting", "keywordType", "matchType",
                                                       "impressions", "clicks", "cost", "purchases7d", "sales7d"], window: window)
        var out: [AdMetricRow] = []
        for (i, row) in campaignRows.enumerated() {
            let day = try Self.reportDay(row, index: i, report: "spCampaigns")
            guard day <= window.end else { continue }
            out.append(AdMetricRow(day: day, campaignID: row.campaignId?.value ?? "", adGroupID: "", targetID: "", impressions: row.impressions ?? 0,
                                   clicks: row.clicks ?? 0, cost: row.cost?.value ?? 0, purchases: row.purchases7d ?? 0, sales: row.sales7d?.value ?? 0))
        }
        for (i, row) in targetRows.enumerated() {
            let day = try Self.reportDay(row, index: i, report: "spTargeting")
            guard day <= window.end else { continue }
            out.append(AdMetricRow(day: day, campaignID: row.campaignId?.value ?? "", adGroupID: row.adGroupId?.value ?? "",
                                   targetID: row.keywordId?.value ?? "", impressions: row.impressions ?? 0, clicks: row.clicks ?? 0,
                                   cost: row.cost?.value ?? 0, purchases: row.purchases7d ?? 0, sales: row.sales7d?.value ?? 0))
        }
        return firewall.filter(out, dataSet: "adMetrics", seller: seller.sellerID)
    }

    /// Customer search terms per keyword/target and day (spSearchTerm) for the settled window.
    public func fetchSearchTerms(seller: SellerAuthorization, profile: AdsProfile, today: Day, days: Int = 14) async throws(AmazonClientError) -> [SearchTermRow] {
        let window = Self.settledWindow(today: today, days: days)
        let rows = try await adsReport(seller, profile: profile, reportType: "spSearchTerm", groupBy: ["searchTerm"],
                                       columns: ["date", "campaignId", "adGroupId", "keywordId", "searchTerm", "matchType", "impressions",
                                                 "clicks", "cost", "purchases7d", "sales7d"], window: window)
        var out: [SearchTermRow] = []
        for (i, row) in rows.enumerated() {
            let day = try Self.reportDay(row, index: i, report: "spSearchTerm")
            guard day <= window.end else { continue }
            guard let term = row.searchTerm else {
                throw .malformed(operation: "spSearchTerm", field: "[\(i)].searchTerm", reason: "missing")
            }
            out.append(SearchTermRow(day: day, campaignID: row.campaignId?.value ?? "", adGroupID: row.adGroupId?.value ?? "",
                                     targetID: row.keywordId?.value ?? "", searchTerm: term, matchType: row.matchType ?? "",
                                     impressions: row.impressions ?? 0, clicks: row.clicks ?? 0, cost: row.cost?.value ?? 0,
                                     purchases: row.purchases7d ?? 0, sales: row.sales7d?.value ?? 0))
        }
        return firewall.filter(out, dataSet: "searchTerms", seller: seller.sellerID)
    }

    static func reportDay(_ row: AdsMetricWire, index: Int, report: String) throws(AmazonClientError) -> Day {
        guard let raw = row.date, let day = Day(rawValue: raw) else {
            throw .malformed(operation: report, field: "[\(index)].date", reason: "missing or not YYYY-MM-DD")
        }
        return day
    }

    /// Ads reporting v3 lifecycle: create (425 on a duplicate means "wait for the first"), poll, download gzip JSON rows.
    func adsReport(_ seller: SellerAuthorization, profile: AdsProfile, reportType: String, groupBy: [String], columns: [String],
                   window: (start: Day, end: Day)) async throws(AmazonClientError) -> [AdsMetricWire] {
        let request: [String: Any] = [
            "name": "optmazon \(reportType) \(window.start)..\(window.end)",
            "startDate": window.start.rawValue, "endDate": window.end.rawValue,
            "configuration": ["adProduct": "SPONSORED_PRODUCTS", "reportTypeId": reportType, "groupBy": groupBy, "columns": columns,
                              "timeUnit": "DAILY", "format": "GZIP_JSON"] as [String: Any],
        ]
        let body = try! JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        let mediaType = "application/vnd.createasyncreportrequest.v3+json"
        let created = try await call(seller, .adsCreateReport, method: .POST, path: "/reporting/reports", json: body, mediaType: mediaType,
                                     adsProfileID: profile.profileID, answering: [425])
        var report: AdsReport
        if created.status == 425 {
            // An identical report is still being made (an earlier attempt of this job that lost its answer, or a
            // duplicate delivery): follow that one instead of failing until it is done.
            guard let pending = Self.duplicateReportID(created.data) else {
                throw .rejected(seller: seller.sellerID, operation: "createAsyncReport \(reportType)", status: 425, code: "duplicate report pending")
            }
            report = AdsReport(reportId: pending, status: "PENDING", url: nil, failureReason: nil)
        } else {
            report = try decode(AdsReport.self, created, operation: "createAsyncReport")
        }
        let deadline = ContinuousClock.now.advanced(by: .seconds(config.reportTimeout))
        var delay = config.reportPollInitialDelay
        while report.status == "PENDING" || report.status == "PROCESSING" {
            if ContinuousClock.now > deadline {
                throw .reportFailed(seller: seller.sellerID, operation: reportType, reportID: report.reportId, status: "timed out \(report.status)")
            }
            try? await Task.sleep(for: .seconds(delay))
            delay = min(config.reportPollMaxDelay, delay * 2)
            let response = try await call(seller, .adsGetReport, method: .GET, path: "/reporting/reports/\(Self.pathSegment(report.reportId))",
                                          mediaType: mediaType, adsProfileID: profile.profileID)
            report = try decode(AdsReport.self, response, operation: "getAsyncReport")
        }
        guard report.status == "COMPLETED" else {
            throw .reportFailed(seller: seller.sellerID, operation: reportType, reportID: report.reportId, status: report.status)
        }
        guard let url = report.url else {
            throw .malformed(operation: "getAsyncReport", field: "url", reason: "missing on COMPLETED report")
        }
        let document = try await download(url, operation: reportType, seller: seller.sellerID, gzip: true)
        return try Self.decode([AdsMetricWire].self, data: document.bytes, operation: reportType)
    }

    /// The pending report's id in a 425 answer (`{"code":"425","detail":"The Request is a duplicate of : <id>"}`).
    static func duplicateReportID(_ body: Data) -> String? {
        struct Answer: Decodable { var detail: String? }
        guard let detail = (try? JSONDecoder().decode(Answer.self, from: body))?.detail,
              let marker = detail.range(of: "duplicate of", options: .caseInsensitive) else { return nil }
        let id = detail[marker.upperBound...].drop { $0 == " " || $0 == ":" }.prefix { !$0.isWhitespace }
        guard !id.isEmpty, id.count <= 128, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else { return nil }
        return String(id)
    }

    /// Pages through an SP v3 list endpoint with `nextToken`.
    func listAll<L: Decodable, E>(_ seller: SellerAuthorization, _ operation: AmazonOperation, path: String, mediaType: String, profile: AdsProfile,
                                  type: L.Type, extract: (L) -> ([E], String?)) async throws(AmazonClientError) -> [E] {
        var out: [E] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["maxResults": 1000]
            if let token { body["nextToken"] = token }
            let data = try! JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            let response = try await call(seller, operation, method: .POST, path: path, json: data, mediaType: mediaType, adsProfileID: profile.profileID)
            let page = try decode(L.self, response, operation: operation.name)
            let (items, next) = extract(page)
            out += items
            token = next.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return out
    }
}

