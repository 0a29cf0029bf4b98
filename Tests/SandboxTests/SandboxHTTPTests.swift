import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Sandbox
import Testing

/// Raw-HTTP checks that the sandbox speaks Amazon's shapes (independent of the OptMazon client).
@Suite("Sandbox over raw HTTP")
struct SandboxHTTPTests {
    func withSandbox(_ config: SandboxConfig = SandboxConfig(sellers: 2, skus: 10, seed: 3, timeScale: 1),
                     _ body: (RunningSandbox, HTTPClient) async throws -> Void) async throws {
        let sandbox = try await RunningSandbox.start(config)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(sandbox, http)
        } catch {
            try? await http.shutdown()
            await sandbox.stop()
            throw error
        }
        try await http.shutdown()
        await sandbox.stop()
    }

    func send(_ http: HTTPClient, _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil)
        async throws -> (status: Int, json: Any?, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(buffer: bytes)), response.headers)
    }

    func token(_ http: HTTPClient, _ base: String, refresh: String, json: Bool = false) async throws -> String {
        let body = json ? #"{"grant_type":"refresh_token","refresh_token":"\#(refresh)","client_id":"c","client_secret":"s"}"#
            : "grant_type=refresh_token&refresh_token=\(refresh.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&client_id=c&client_secret=s"
        let r = try await send(http, base + "/auth/o2/token", method: .POST,
                               headers: [("Content-Type", json ? "application/json" : "application/x-www-form-urlencoded;charset=UTF-8")], body: body)
        #expect(r.status == 200)
        let object = try #require(r.json as? [String: Any])
        #expect(object["token_type"] as? String == "bearer" && object["expires_in"] as? Int == 3600)
        return try #require(object["access_token"] as? String)
    }

    @Test("LWA accepts form and JSON bodies and answers invalid_grant for revoked sellers")
    func lwa() async throws {
        try await withSandbox { sandbox, http in
            let seller = sandbox.server.world.sellers[0]
            #expect(try await token(http, sandbox.url, refresh: seller.spapiRefreshToken).hasPrefix("Atza|"))
            #expect(try await token(http, sandbox.url, refresh: seller.adsRefreshToken, json: true).hasPrefix("Atza|"))
            let revoke = try await send(http, sandbox.url + "/_sandbox/revoke?seller=\(seller.sellerID)", method: .POST)
            #expect(revoke.status == 200)
            let refused = try await send(http, sandbox.url + "/auth/o2/token", method: .POST, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                         body: "grant_type=refresh_token&refresh_token=\(seller.spapiRefreshToken)&client_id=c&client_secret=s")
            #expect(refused.status == 400)
            #expect((refused.json as? [String: Any])?["error"] as? String == "invalid_grant")
        }
    }

    @Test("SP-API enforces the per-seller usage plan and answers 429 with Amazon's QuotaExceeded body")
    func rateLimit() async throws {
        try await withSandbox { sandbox, http in
            let seller = sandbox.server.world.sellers[0]
            let access = try await token(http, sandbox.url, refresh: seller.spapiRefreshToken)
            let asin = sandbox.server.world.skus(of: seller)[0].asin
            let body = #"{"requests":[{"uri":"/products/pricing/v0/items/\#(asin)/offers","method":"GET","MarketplaceId":"ATVPDKIKX0DER","ItemCondition":"New","CustomerType":"Consumer"}]}"#
            let first = try await send(http, sandbox.url + "/batches/products/pricing/v0/itemOffers", method: .POST,
                                       headers: [("x-amz-access-token", access), ("Content-Type", "application/json")], body: body)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "x-amzn-RateLimit-Limit") == "0.1")
            #expect(first.headers.first(name: "x-amzn-RequestId") != nil)
            let responses = try #require((first.json as? [String: Any])?["responses"] as? [[String: Any]])
            #expect(((responses[0]["status"] as? [String: Any])?["statusCode"] as? Int) == 200)
            let second = try await send(http, sandbox.url + "/batches/products/pricing/v0/itemOffers", method: .POST,
                                        headers: [("x-amz-access-token", access), ("Content-Type", "application/json")], body: body)
            #expect(second.status == 429)
            let errors = try #require((second.json as? [String: Any])?["errors"] as? [[String: Any]])
            #expect(errors.first?["code"] as? String == "QuotaExceeded")
            #expect(errors.first?["message"] as? String == "You exceeded your quota for the requested resource.")
        }
    }

    @Test("Missing or unknown access token is 403 Unauthorized; per-request fault header injects 500 and malformed JSON")
    func authAndFaults() async throws {
        try await withSandbox { sandbox, http in
            let anonymous = try await send(http, sandbox.url + "/sellers/v1/marketplaceParticipations")
            #expect(anonymous.status == 403)
            let access = try await token(http, sandbox.url, refresh: sandbox.server.world.sellers[1].spapiRefreshToken)
            let ok = try await send(http, sandbox.url + "/sellers/v1/marketplaceParticipations", headers: [("x-amz-access-token", access)])
            #expect(ok.status == 200 && (ok.json as? [String: Any])?["payload"] != nil)
            let failed = try await send(http, sandbox.url + "/sellers/v1/marketplaceParticipations",
                                        headers: [("x-amz-access-token", access), ("x-optmazon-fault", "500")])
            #expect(failed.status == 500)
            let malformed = try await send(http, sandbox.url + "/sellers/v1/marketplaceParticipations",
                                           headers: [("x-amz-access-token", access), ("x-optmazon-fault", "malformed")])
            #expect(malformed.status == 200 && malformed.json == nil)
        }
    }

    @Test("Ads endpoints require Bearer, ClientId and the seller's profile as Scope")
    func adsHeaders() async throws {
        try await withSandbox { sandbox, http in
            let seller = sandbox.server.world.sellers[0]
            let access = try await token(http, sandbox.url, refresh: seller.adsRefreshToken)
            let base = [("Authorization", "Bearer \(access)"), ("Amazon-Advertising-API-ClientId", "client")]
            let profiles = try await send(http, sandbox.url + "/v2/profiles", headers: base)
            let first = try #require((profiles.json as? [[String: Any]])?.first)
            #expect((first["accountInfo"] as? [String: Any])?["marketplaceStringId"] as? String == "ATVPDKIKX0DER")
            let unscoped = try await send(http, sandbox.url + "/sp/campaigns/list", method: .POST, headers: base, body: "{}")
            #expect(unscoped.status == 401)
            let scoped = try await send(http, sandbox.url + "/sp/campaigns/list", method: .POST,
                                        headers: base + [("Amazon-Advertising-API-Scope", seller.adsProfileID),
                                                         ("Content-Type", "application/vnd.spCampaign.v3+json")], body: #"{"maxResults":1}"#)
            #expect(scoped.status == 200)
            let page = try #require(scoped.json as? [String: Any])
            #expect((page["campaigns"] as? [Any])?.count == 1 && page["nextToken"] != nil)
            let spapiToken = try await send(http, sandbox.url + "/v2/profiles", headers: [("Authorization", "Bearer \(try await token(http, sandbox.url, refresh: seller.spapiRefreshToken))"), ("Amazon-Advertising-API-ClientId", "client")])
            #expect(spapiToken.status == 401)
        }
    }

    @Test("Same seed, same synthetic world; different seed, different sellers")
    func determinism() {
        let a = SandboxWorld(seed: 11, sellers: 3, skus: 5)
        let b = SandboxWorld(seed: 11, sellers: 3, skus: 5)
        let c = SandboxWorld(seed: 12, sellers: 3, skus: 5)
        #expect(a.sellers == b.sellers)
        #expect(a.sellers.map(\.sellerID) != c.sellers.map(\.sellerID))
    }
}
