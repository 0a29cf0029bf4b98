public import AmazonClient
public import Domain
public import Foundation
public import JobQueue
public import Logging
import Scheduling
public import SellerStore

/// The LWA side of onboarding: code exchange and the Ads profile lookup.
///
/// A protocol so the flow depends on what it needs, not on the whole client; ``AmazonClient`` conforms.
public protocol ConsentExchanger: Sendable {
    /// Exchanges an authorization code (5-minute, single-use) for the grant's refresh token.
    func exchangeAuthorizationCode(_ code: String, redirectURI: String?) async throws(AmazonClientError) -> LWAGrant
    /// The seller's Ads profile for `marketplace`, using the freshly granted Ads refresh token.
    func adsProfileID(seller: SellerID, adsRefreshToken: String, marketplace: String) async throws(AmazonClientError) -> String
}

extension AmazonClient: ConsentExchanger {
    public func adsProfileID(seller: SellerID, adsRefreshToken: String, marketplace: String) async throws(AmazonClientError) -> String {
        // Ads calls use only the Ads grant; the SP-API token field is never sent on them.
        let authorization = SellerAuthorization(sellerID: seller, spapiRefreshToken: "", adsRefreshToken: adsRefreshToken)
        return try await adsProfile(seller: authorization, marketplace: marketplace).profileID
    }
}

/// The SP-API website authorization workflow and the Ads API consent (README §7, ADS.md §2).
///
/// Every refusal (bad, forged, expired or replayed state, missing code, LWA error) is a page
/// with a 4xx status written before anything is stored; only a fully successful exchange writes
/// the registry, and only then is the seller's first run enqueued.
public struct OnboardingFlow: Sendable {
    /// Consent page URLs, redirect URIs and the state lifetime.
    public let configuration: WebConfiguration
    let signer: StateSigner
    let ledger: any StateLedger
    let exchanger: any ConsentExchanger
    let control: ControlStore
    let queue: any JobQueue
    let now: @Sendable () -> Date
    let logger: Logger

    /// Unique-key lifetime of the first run, the scheduler's (so tonight's scheduled run of the same day is the same job).
    static let firstRunUniqueSeconds = SchedulerConfiguration().uniqueSeconds

    /// - Parameter now: the clock, injectable so tests can expire a state.
    public init(configuration: WebConfiguration, signer: StateSigner, ledger: any StateLedger, exchanger: any ConsentExchanger,
                control: ControlStore, queue: any JobQueue, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.signer = signer
        self.ledger = ledger
        self.exchanger = exchanger
        self.control = control
        self.queue = queue
        self.logger = logger
        self.now = now
    }

    // MARK: - SP-API

    /// `GET /authorize[?marketplace=ID]`: redirect to Seller Central's consent page with a fresh signed state.
    public func authorize(marketplace requested: String?) -> OnboardingReply {
        let home = configuration.defaultMarketplace
        let marketplace: Marketplace
        if let requested, !requested.isEmpty {
            guard let found = Marketplace.named(requested) else {
                return .page(status: 400, .refused("Unknown marketplace", "The marketplace id '\(requested.prefix(40))' is not an Amazon marketplace.",
                                                  advice: "Use a marketplace id such as \(home.id) (\(home.countryCode))."))
            }
            guard found.region == home.region else {
                return .page(status: 400, .refused("Marketplace of another region",
                                                  "Marketplace \(found.id) (\(found.countryCode)) is in region \(found.region.rawValue); this site onboards region \(home.region.rawValue).",
                                                  advice: "Authorize through the OptMazon site of region \(found.region.rawValue)."))
            }
            marketplace = found
        } else {
            marketplace = home
        }
        let state = signer.sign(OAuthStatePayload(flow: .spapi, issuedAt: now(), marketplaceID: marketplace.id))
        var query = [("application_id", configuration.applicationID), ("state", state)]
        if configuration.beta { query.append(("version", "beta")) }
        return .redirect(URLText.with(WebConfiguration.join(configuration.sellerCentralURL, "apps/authorize/consent"), query: query))
    }

    /// `GET /callback?state&selling_partner_id&spapi_oauth_code`: verify, exchange, register, enqueue the first run.
    public func callback(state: String?, sellingPartnerID: String?, code: String?, amazonError: String?) async -> OnboardingReply {
        let title = "Amazon seller account not connected"
        let restart = "Start again from the OptMazon authorization link; each link works once and for \(Int(configuration.stateLifetime / 60)) minutes."
        let payload: OAuthStatePayload
        do {
            payload = try signer.verify(state, flow: .spapi, now: now())
        } catch {
            logger.warning("onboarding callback refused", metadata: ["flow": "spapi", "reason": "\(error)"])
            return .page(status: 400, .refused(title, "Refused: \(error.description).", advice: restart))
        }
        if let amazonError, !amazonError.isEmpty {
            logger.notice("seller declined or Amazon failed the consent", metadata: ["flow": "spapi", "error": "\(amazonError.prefix(60))"])
            return .page(status: 400, .refused(title, "Amazon reported '\(amazonError.prefix(60))' instead of an authorization.", advice: restart))
        }
        guard let code, !code.isEmpty else {
            return .page(status: 400, .refused(title, "Amazon's response carries no spapi_oauth_code.", advice: restart))
        }
        guard let raw = sellingPartnerID, let seller = SellerID(rawValue: raw) else {
            return .page(status: 400, .refused(title, "Amazon's response carries no valid selling_partner_id.", advice: restart))
        }
        guard let marketplace = payload.marketplaceID.flatMap(Marketplace.named) else {
            return .page(status: 400, .refused(title, "Refused: \(OAuthStateError.malformed.description).", advice: restart))
        }
        if let refusal = await consume(payload, title: title, advice: restart) { return refusal }

        let existing: RegisteredSeller?
        do {
            existing = try await registered(seller)
        } catch {
            logger.error("registry unavailable during onboarding", metadata: ["seller": "\(seller)", "error": "\(error)"])
            return .page(status: 503, .refused(title, "The seller registry is unavailable right now.", advice: restart))
        }
        if let existing, existing.status != .active {
            return .page(status: 409, .refused(title, "Seller \(seller) revoked OptMazon's access earlier and is being deleted.",
                                               advice: "Ask OptMazon support to re-enable the account once its deletion is complete."))
        }
        let grant: LWAGrant
        switch await exchange(code, redirectURI: configuration.spapiRedirectURI, seller: seller, flow: .spapi) {
        case let .success(g): grant = g
        case let .failure(refusal): return refusal.reply
        }
        do {
            if existing == nil {
                let registration = try SellerRegistration(sellerID: seller, region: marketplace.region, marketplaceIDs: [marketplace.id],
                                                          spRefreshToken: Secret(grant.refreshToken))
                do {
                    try await control.register(registration, at: now())
                } catch let error as SellerStoreError where error.code == .sellerExists {
                    // Registered meanwhile by another callback or an operator: this consent renews its token.
                    try await control.renewSPAuthorization(of: seller, refreshToken: Secret(grant.refreshToken), at: now())
                }
            } else {
                try await control.renewSPAuthorization(of: seller, refreshToken: Secret(grant.refreshToken), at: now())
            }
        } catch {
            logger.error("storing the authorization failed", metadata: ["seller": "\(seller)", "error": "\(error)"])
            return .page(status: 500, .refused(title, "The authorization could not be stored.", advice: restart))
        }
        let marketplaces = existing?.marketplaceIDs ?? [marketplace.id]
        let queued = await enqueueFirstRun(seller, marketplaceID: marketplaces.first ?? marketplace.id)
        logger.info("seller authorized", metadata: ["seller": "\(seller)", "renewal": "\(existing != nil)", "first_run_queued": "\(queued)"])
        var paragraphs = [existing == nil
            ? "Seller \(seller) is connected to OptMazon for marketplace \(marketplaces.joined(separator: ", ")) (region \(marketplace.region.rawValue))."
            : "Seller \(seller) renewed its authorization; OptMazon keeps working with the new one."]
        paragraphs.append(queued ? "The first data fetch is queued; recommendations follow once it completes."
                                 : "The first data fetch could not be queued right now; it runs with tonight's scheduled fetch.")
        paragraphs.append("To let OptMazon read advertising data too, connect the Amazon Ads API at /ads/authorize?seller=\(seller).")
        return .page(status: 200, Page(title: "Amazon seller account connected", paragraphs: paragraphs, success: true))
    }

    // MARK: - Ads API

    /// `GET /ads/authorize?seller=ID`: redirect to the Ads consent page, for an already-registered, active seller only.
    public func adsAuthorize(seller raw: String?) async -> OnboardingReply {
        let title = "Amazon Ads not connected"
        guard let raw, let seller = SellerID(rawValue: raw) else {
            return .page(status: 400, .refused(title, "The link names no valid seller id (?seller=).",
                                               advice: "Use the link shown after connecting the seller account."))
        }
        switch await adsEligibility(seller, title: title) {
        case .failure(let refusal): return refusal.reply
        case .success: break
        }
        let state = signer.sign(OAuthStatePayload(flow: .ads, issuedAt: now(), sellerID: seller))
        return .redirect(URLText.with(configuration.adsConsentURL.absoluteString, query: [
            ("client_id", configuration.lwaClientID), ("scope", "advertising::campaign_management"), ("response_type", "code"),
            ("redirect_uri", configuration.adsRedirectURI), ("state", state),
        ]))
    }

    /// `GET /ads/callback?code&scope&state`: verify, exchange, look up the profile, add the Ads grant to the seller.
    public func adsCallback(state: String?, code: String?, amazonError: String?) async -> OnboardingReply {
        let title = "Amazon Ads not connected"
        let restart = "Start again from the OptMazon Ads link; each link works once and for \(Int(configuration.stateLifetime / 60)) minutes."
        let payload: OAuthStatePayload
        do {
            payload = try signer.verify(state, flow: .ads, now: now())
        } catch {
            logger.warning("onboarding callback refused", metadata: ["flow": "ads", "reason": "\(error)"])
            return .page(status: 400, .refused(title, "Refused: \(error.description).", advice: restart))
        }
        if let amazonError, !amazonError.isEmpty {
            logger.notice("seller declined or Amazon failed the consent", metadata: ["flow": "ads", "error": "\(amazonError.prefix(60))"])
            return .page(status: 400, .refused(title, "Amazon reported '\(amazonError.prefix(60))' instead of an authorization.", advice: restart))
        }
        guard let code, !code.isEmpty else {
            return .page(status: 400, .refused(title, "Amazon's response carries no authorization code.", advice: restart))
        }
        guard let seller = payload.sellerID else {
            return .page(status: 400, .refused(title, "Refused: \(OAuthStateError.malformed.description).", advice: restart))
        }
        if let refusal = await consume(payload, title: title, advice: restart) { return refusal }
        let registered: RegisteredSeller
        switch await adsEligibility(seller, title: title) {
        case .failure(let refusal): return refusal.reply
        case .success(let entry): registered = entry
        }
        let grant: LWAGrant
        switch await exchange(code, redirectURI: configuration.adsRedirectURI, seller: seller, flow: .ads) {
        case let .success(g): grant = g
        case let .failure(refusal): return refusal.reply
        }
        let marketplace = registered.marketplaceIDs.first ?? configuration.defaultMarketplace.id
        let profileID: String
        do {
            profileID = try await exchanger.adsProfileID(seller: seller, adsRefreshToken: grant.refreshToken, marketplace: marketplace)
        } catch {
            logger.warning("no Ads profile for the seller", metadata: ["seller": "\(seller)", "marketplace": "\(marketplace)", "error": "\(error)"])
            if case .adsNotConnected = error {
                return .page(status: 422, .refused(title, "The Amazon Ads account has no advertiser profile for marketplace \(marketplace).",
                                                   advice: "Set up Sponsored Products advertising for that marketplace, then connect again."))
            }
            return .page(status: 502, .refused(title, "Amazon's Ads API could not list the advertiser profiles (\(error.description)).", advice: restart))
        }
        do {
            try await control.setAdsAuthorization(of: seller, refreshToken: Secret(grant.refreshToken), profileID: profileID, at: now())
        } catch {
            logger.error("storing the Ads authorization failed", metadata: ["seller": "\(seller)", "error": "\(error)"])
            return .page(status: 409, .refused(title, "The Ads authorization could not be added to seller \(seller).", advice: restart))
        }
        logger.info("Ads API connected", metadata: ["seller": "\(seller)", "profile": "\(profileID)"])
        return .page(status: 200, Page(title: "Amazon Ads connected", paragraphs: [
            "Seller \(seller) connected its Amazon Ads account (advertiser profile \(profileID), marketplace \(marketplace)).",
            "Advertising data is fetched from the next run on.",
        ], success: true))
    }

    // MARK: - Steps

    /// Marks the state used; a refusal page when it was used before or Redis cannot tell.
    private func consume(_ payload: OAuthStatePayload, title: String, advice: String) async -> OnboardingReply? {
        do {
            if try await ledger.consume(nonce: payload.nonce, ttl: signer.lifetime + StateSigner.clockSkew) { return nil }
            logger.warning("onboarding callback refused", metadata: ["flow": "\(payload.flow.rawValue)", "reason": "\(OAuthStateError.replayed)"])
            return .page(status: 400, .refused(title, "Refused: \(OAuthStateError.replayed.description).", advice: advice))
        } catch {
            logger.error("cannot mark OAuth state used", metadata: ["error": "\(error)"])
            return .page(status: 503, .refused(title, "OptMazon cannot check the authorization right now.",
                                               advice: "Reload this page within a few minutes, or start again."))
        }
    }

    /// The registered seller, or nil when unknown (other registry failures throw).
    private func registered(_ seller: SellerID) async throws -> RegisteredSeller? {
        do {
            return try await control.seller(seller)
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            return nil
        }
    }

    /// The seller an Ads consent may be given for: registered and active.
    private func adsEligibility(_ seller: SellerID, title: String) async -> Result<RegisteredSeller, ReplyError> {
        let entry: RegisteredSeller?
        do {
            entry = try await registered(seller)
        } catch {
            logger.error("registry unavailable during onboarding", metadata: ["seller": "\(seller)", "error": "\(error)"])
            return .failure(ReplyError(.page(status: 503, .refused(title, "The seller registry is unavailable right now.",
                                                                   advice: "Try again in a few minutes."))))
        }
        guard let entry else {
            return .failure(ReplyError(.page(status: 404, .refused(title, "Seller \(seller) is not connected to OptMazon.",
                                                                   advice: "Connect the Amazon seller account first (/authorize), then Amazon Ads."))))
        }
        guard entry.status == .active else {
            return .failure(ReplyError(.page(status: 409, .refused(title, "Seller \(seller) revoked OptMazon's access and is being deleted.",
                                                                   advice: "Contact OptMazon support."))))
        }
        return .success(entry)
    }

    /// The LWA code exchange, with LWA's refusals as 400 pages and outages as 502.
    private func exchange(_ code: String, redirectURI: String, seller: SellerID, flow: ConsentFlow) async -> Result<LWAGrant, ReplyError> {
        let title = flow == .ads ? "Amazon Ads not connected" : "Amazon seller account not connected"
        do {
            return .success(try await exchanger.exchangeAuthorizationCode(code, redirectURI: redirectURI))
        } catch {
            logger.warning("authorization code exchange failed", metadata: ["seller": "\(seller)", "flow": "\(flow.rawValue)", "error": "\(error)"])
            switch error {
            case let .tokenExchangeFailed(_, lwaCode, _):
                let why = lwaCode == "invalid_grant" ? " The code expired (it lives 5 minutes) or was already used." : ""
                return .failure(ReplyError(.page(status: 400, .refused(title, "Amazon refused the authorization code (\(lwaCode.prefix(40))).\(why)",
                                                                       advice: "Start the authorization again."))))
            default:
                return .failure(ReplyError(.page(status: 502, .refused(title, "Amazon's login service could not be reached (\(error.description)).",
                                                                       advice: "Start the authorization again in a few minutes."))))
            }
        }
    }

    /// Enqueues the seller's first `fetch` for its local today, with the scheduler's unique key for that day.
    private func enqueueFirstRun(_ seller: SellerID, marketplaceID: String) async -> Bool {
        let now = self.now()
        let timeZone = Marketplace.named(marketplaceID).flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
        let day = Day(now, timeZone: timeZone)
        let job = JobEnvelope(kind: .fetch, seller: seller, arguments: ["day": day.rawValue, "trigger": "onboarding"], enqueuedAt: now)
        do {
            _ = try await queue.enqueue(job, at: nil, uniqueKey: Scheduler.fetchKey(seller, day: day), uniqueFor: Self.firstRunUniqueSeconds)
            return true
        } catch {
            logger.error("first fetch not enqueued", metadata: ["seller": "\(seller)", "error": "\(error)"])
            return false
        }
    }
}

/// A reply carried through `Result` by the steps that can end the flow early.
struct ReplyError: Error {
    let reply: OnboardingReply
    init(_ reply: OnboardingReply) { self.reply = reply }
}

/// Builds URLs with RFC 3986-escaped query values (Foundation's URLComponents leaves `+` and `:` unescaped).
enum URLText {
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    static func with(_ base: String, query: [(String, String)]) -> String {
        let encoded = query.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        return base + (base.contains("?") ? "&" : "?") + encoded
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
