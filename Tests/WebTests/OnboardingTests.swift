import Domain
import Foundation
import JobQueue
import SellerStore
import Testing
import Web

@Suite("SP-API website authorization against the sandbox's LWA")
struct OnboardingTests {
    @Test("authorize redirects to Seller Central's consent page with a signed state; the callback registers the seller encrypted and queues its first fetch")
    func fullFlow() async throws {
        let web = try await WebHarness.start(beta: true)
        let seller = web.seller(0)

        let (consent, state) = try await web.authorize()
        #expect(consent.status == 302)
        let location = try #require(consent.header("Location"))
        #expect(location.hasPrefix("https://sellercentral.optmazon.test/apps/authorize/consent?"))
        #expect(consent.locationQuery["application_id"] == "amzn1.sp.solution.webtests")
        #expect(consent.locationQuery["version"] == "beta")
        #expect(!state.isEmpty)

        let done = try await web.callback(state: state, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(done.status == 200, "\(done.body)")
        #expect(done.header("Referrer-Policy") == "no-referrer")
        #expect(done.body.contains("connected") && done.body.contains(seller.sellerID))
        #expect(!done.body.contains(seller.spapiRefreshToken), "the page never shows the refresh token")

        let registered = try await web.control.seller(SellerID(rawValue: seller.sellerID)!)
        #expect(registered.spRefreshToken.reveal() == seller.spapiRefreshToken)
        #expect(registered.region == .na && registered.marketplaceIDs == ["ATVPDKIKX0DER"] && registered.status == .active)
        #expect(registered.adsRefreshToken == nil)
        let bytes = try web.dataDirectoryBytes()
        #expect(!bytes.isEmpty)
        #expect(bytes.range(of: Data(seller.spapiRefreshToken.utf8)) == nil, "the registry stores the token encrypted")
        #expect(bytes.range(of: Data(seller.sellerID.utf8)) == nil, "the registry is encrypted as a whole")

        let jobs = try await web.fetchJobs()
        #expect(jobs.count == 1)
        let job = try #require(jobs.first)
        #expect(job.kind == .fetch && job.seller.rawValue == seller.sellerID && job.arguments["trigger"] == "onboarding")
        #expect(job.arguments["day"] == Day(web.clock.now(), timeZone: TimeZone(identifier: "America/Los_Angeles")!).rawValue)

        let logged = web.logs.text
        #expect(logged.contains(seller.sellerID), "the flow logs seller ids")
        #expect(!logged.contains(seller.spapiRefreshToken) && !logged.contains(seller.spapiAuthorizationCode) && !logged.contains(state),
                "tokens, codes and states never reach the logs")
        await web.stop()
    }

    @Test("a registered seller that authorizes again renews its token; a revoked one is refused before the code is spent")
    func renewal() async throws {
        let web = try await WebHarness.start()
        let (active, revoked) = (web.seller(0), web.seller(1))
        for (seller, marketplace) in [(active, "A2EUQ1WTGCTBG2"), (revoked, "ATVPDKIKX0DER")] {
            try await web.control.register(try SellerRegistration(sellerID: SellerID(rawValue: seller.sellerID)!, region: .na,
                                                                  marketplaceIDs: [marketplace], spRefreshToken: Secret("Atzr|old")))
        }
        try await web.control.setStatus(of: SellerID(rawValue: revoked.sellerID)!, to: .revoked)

        let renewed = try await web.onboard(0)
        #expect(renewed.status == 200 && renewed.body.contains("renewed"), "\(renewed.body)")
        let entry = try await web.control.seller(SellerID(rawValue: active.sellerID)!)
        #expect(entry.spRefreshToken.reveal() == active.spapiRefreshToken)
        #expect(entry.marketplaceIDs == ["A2EUQ1WTGCTBG2"], "a renewal keeps the seller's marketplaces")
        #expect(try await web.fetchJobs().map(\.seller.rawValue) == [active.sellerID])

        let refused = try await web.onboard(1)
        #expect(refused.status == 409 && refused.body.contains("revoked"), "\(refused.body)")
        #expect(try await web.control.seller(SellerID(rawValue: revoked.sellerID)!).spRefreshToken.reveal() == "Atzr|old")
        #expect(try await web.fetchJobs().count == 1)
        await web.stop()
    }

    @Test("a forged or altered state is refused with a 4xx page and nothing is stored (the code stays unused)")
    func forgedState() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        let forger = try StateSigner(secret: "an-attacker-secret-that-is-long-enough-000", lifetime: 600)
        let forged = forger.sign(OAuthStatePayload(flow: .spapi, issuedAt: web.clock.now(), marketplaceID: "ATVPDKIKX0DER"))
        let refused = try await web.callback(state: forged, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(refused.status == 400)
        #expect(refused.body.contains("not issued by OptMazon") && refused.body.contains("Nothing was stored"))
        #expect(refused.header("Referrer-Policy") == "no-referrer")

        let (_, genuine) = try await web.authorize()
        let parts = genuine.split(separator: ".")
        let altered = String(parts[0].dropLast()) + (parts[0].last == "A" ? "B" : "A") + "." + parts[1]
        #expect(try await web.callback(state: altered, seller: seller.sellerID, code: seller.spapiAuthorizationCode).status == 400)
        #expect(try await web.callback(state: "garbage", seller: seller.sellerID, code: seller.spapiAuthorizationCode).body.contains("malformed"))
        #expect(try await web.callback(state: nil, seller: seller.sellerID, code: seller.spapiAuthorizationCode).status == 400)
        let adsState = web.signer.sign(OAuthStatePayload(flow: .ads, issuedAt: web.clock.now(), sellerID: SellerID(rawValue: seller.sellerID)!))
        let crossed = try await web.callback(state: adsState, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(crossed.status == 400 && crossed.body.contains("issued for the ads consent"))
        #expect(try await web.expectNothingStored())

        let genuineUse = try await web.callback(state: genuine, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(genuineUse.status == 200, "no refusal above spent the seller's code at LWA: \(genuineUse.body)")
        await web.stop()
    }

    @Test("a state older than its lifetime is refused (injected clock); one just inside it is accepted")
    func expiredState() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        let (_, old) = try await web.authorize()
        web.clock.advance(601)
        let refused = try await web.callback(state: old, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(refused.status == 400 && refused.body.contains("expired"), "\(refused.body)")
        #expect(try await web.expectNothingStored())

        let (_, fresh) = try await web.authorize()
        web.clock.advance(599)
        #expect(try await web.callback(state: fresh, seller: seller.sellerID, code: seller.spapiAuthorizationCode).status == 200)
        await web.stop()
    }

    @Test("a replayed state is refused even with another seller's valid code, and stores nothing more")
    func replayedState() async throws {
        let web = try await WebHarness.start()
        let (first, second) = (web.seller(0), web.seller(1))
        let (_, state) = try await web.authorize()
        #expect(try await web.callback(state: state, seller: first.sellerID, code: first.spapiAuthorizationCode).status == 200)
        let replay = try await web.callback(state: state, seller: second.sellerID, code: second.spapiAuthorizationCode)
        #expect(replay.status == 400 && replay.body.contains("already used"), "\(replay.body)")
        #expect(try await web.control.sellers().map(\.sellerID.rawValue) == [first.sellerID])
        #expect(try await web.fetchJobs().count == 1)
        await web.stop()
    }

    @Test("a callback without a code, with Amazon's error, or without a seller id is refused and stores nothing")
    func missingCode() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        let (_, state) = try await web.authorize()
        let noCode = try await web.callback(state: state, seller: seller.sellerID, code: nil)
        #expect(noCode.status == 400 && noCode.body.contains("no spapi_oauth_code"))
        let empty = try await web.callback(state: state, seller: seller.sellerID, code: "")
        #expect(empty.status == 400)
        let denied = try await web.get("/callback?state=\(state)&error=access_denied")
        #expect(denied.status == 400 && denied.body.contains("access_denied"))
        let injected = try await web.get("/callback?state=\(state)&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        #expect(injected.status == 400 && !injected.body.contains("<script>") && injected.body.contains("&lt;script&gt;"), "pages escape what Amazon's redirect carries")
        let noSeller = try await web.callback(state: state, seller: nil, code: seller.spapiAuthorizationCode)
        #expect(noSeller.status == 400 && noSeller.body.contains("selling_partner_id"))
        #expect(try await web.expectNothingStored())
        await web.stop()
    }

    @Test("an authorization code LWA refuses (invalid_grant, invalid_client) gives a 4xx page and stores nothing")
    func lwaError() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        let (_, state) = try await web.authorize()
        let refused = try await web.callback(state: state, seller: seller.sellerID, code: "ANsandbox-spapi-code-UNKNOWN")
        #expect(refused.status == 400 && refused.body.contains("invalid_grant") && refused.body.contains("5 minutes"), "\(refused.body)")
        #expect(try await web.expectNothingStored())
        await web.stop()

        let misconfigured = try await WebHarness.start(lwaClientSecret: "not-the-app-secret")
        let (_, other) = try await misconfigured.authorize()
        let clientRefused = try await misconfigured.callback(state: other, seller: seller.sellerID, code: seller.spapiAuthorizationCode)
        #expect(clientRefused.status == 400 && clientRefused.body.contains("invalid_client"), "\(clientRefused.body)")
        #expect(try await misconfigured.expectNothingStored())
        await misconfigured.stop()
    }

    @Test("authorize refuses an unknown marketplace and one of another region; a named marketplace of the region is registered")
    func marketplaces() async throws {
        let web = try await WebHarness.start()
        #expect(try await web.get("/authorize?marketplace=NOPE").status == 400)
        let otherRegion = try await web.get("/authorize?marketplace=A1PA6795UKMFR9")
        #expect(otherRegion.status == 400 && otherRegion.body.contains("region eu"))
        let seller = web.seller(2)
        let (_, state) = try await web.authorize("?marketplace=A2EUQ1WTGCTBG2")
        #expect(try await web.callback(state: state, seller: seller.sellerID, code: seller.spapiAuthorizationCode).status == 200)
        #expect(try await web.control.seller(SellerID(rawValue: seller.sellerID)!).marketplaceIDs == ["A2EUQ1WTGCTBG2"])
        await web.stop()
    }
}

@Suite("Ads API consent against the sandbox's LWA")
struct AdsOnboardingTests {
    @Test("a registered seller's Ads consent adds the Ads refresh token and its advertiser profile")
    func adsFlow() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        #expect(try await web.onboard(0).status == 200)
        let consent = try await web.get("/ads/authorize?seller=\(seller.sellerID)")
        #expect(consent.status == 302)
        #expect(consent.header("Location")?.hasPrefix("https://www.amazon.test/ap/oa?") == true)
        let query = consent.locationQuery
        #expect(query["client_id"] == WebHarness.lwaClientID && query["response_type"] == "code")
        #expect(query["scope"] == "advertising::campaign_management")
        #expect(query["redirect_uri"] == "https://onboard.optmazon.test/ads/callback")
        let state = try #require(query["state"])

        let done = try await web.get("/ads/callback" + WebHarness.query([
            URLQueryItem(name: "code", value: seller.adsAuthorizationCode),
            URLQueryItem(name: "scope", value: "advertising::campaign_management"), URLQueryItem(name: "state", value: state),
        ]))
        #expect(done.status == 200, "\(done.body)")
        #expect(done.header("Referrer-Policy") == "no-referrer")
        let registered = try await web.control.seller(SellerID(rawValue: seller.sellerID)!)
        #expect(registered.adsRefreshToken?.reveal() == seller.adsRefreshToken)
        #expect(registered.adsProfileID == seller.adsProfileID)
        #expect(registered.spRefreshToken.reveal() == seller.spapiRefreshToken, "the SP-API grant is untouched")

        let replay = try await web.get("/ads/callback?code=\(seller.adsAuthorizationCode)&state=\(state)")
        #expect(replay.status == 400 && replay.body.contains("already used"))
        await web.stop()
    }

    @Test("Ads consent for an unknown seller is refused at authorize and at the callback, storing nothing")
    func unknownSeller() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(1)
        let refused = try await web.get("/ads/authorize?seller=\(seller.sellerID)")
        #expect(refused.status == 404 && refused.body.contains("not connected"))
        #expect(try await web.get("/ads/authorize").status == 400)

        let state = web.signer.sign(OAuthStatePayload(flow: .ads, issuedAt: web.clock.now(), sellerID: SellerID(rawValue: seller.sellerID)!))
        let callback = try await web.get("/ads/callback?code=\(seller.adsAuthorizationCode)&state=\(state)")
        #expect(callback.status == 404, "\(callback.body)")
        #expect(try await web.expectNothingStored())
        await web.stop()
    }

    @Test("Ads callbacks with a bad state, no code or a code LWA refuses change nothing")
    func adsRefusals() async throws {
        let web = try await WebHarness.start()
        let seller = web.seller(0)
        #expect(try await web.onboard(0).status == 200)
        let spState = try await web.authorize().state
        #expect(try await web.get("/ads/callback?code=\(seller.adsAuthorizationCode)&state=\(spState)").status == 400)
        let state1 = try #require(try await web.get("/ads/authorize?seller=\(seller.sellerID)").locationQuery["state"])
        #expect(try await web.get("/ads/callback?state=\(state1)").body.contains("no authorization code"))
        let state2 = try #require(try await web.get("/ads/authorize?seller=\(seller.sellerID)").locationQuery["state"])
        let lwa = try await web.get("/ads/callback?code=ANbogus&state=\(state2)")
        #expect(lwa.status == 400 && lwa.body.contains("invalid_grant"))
        let registered = try await web.control.seller(SellerID(rawValue: seller.sellerID)!)
        #expect(registered.adsRefreshToken == nil && registered.adsProfileID == nil)
        await web.stop()
    }
}
