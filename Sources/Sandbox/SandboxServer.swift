import CompressNIO
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import NIOFoundationCompat

/// The local Amazon: LWA, the SP-API operations and the Ads endpoints OptMazon uses, with Amazon's shapes,
/// rate limits and failure modes, over real HTTP.
public final class SandboxServer: Sendable {
    public let config: SandboxConfig
    public let world: SandboxWorld
    let state: SandboxState
    let logger: Logger

    /// The SP-API/Ads operations with Amazon's default usage plans (README §4); Ads limits are unpublished.
    static let plans: [String: (rate: Double, burst: Int)] = [
        "getCatalogItem": (2, 2), "getListingsItem": (5, 10), "getItemOffersBatch": (0.1, 1), "getCompetitivePricing": (0.5, 1),
        "getFeaturedOfferExpectedPriceBatch": (0.033, 1), "createReport": (0.0167, 15), "getReport": (2, 15),
        "getReportDocument": (0.0167, 15), "getMarketplaceParticipations": (0.016, 15),
        "listProfiles": (2, 10), "listCampaigns": (2, 10), "listAdGroups": (2, 10), "listKeywords": (2, 10), "listTargets": (2, 10),
        "createAsyncReport": (2, 10), "getAsyncReport": (2, 10),
    ]

    public init(config: SandboxConfig, logger: Logger = Logger(label: "optmazon.sandbox")) {
        self.config = config
        self.world = SandboxWorld(seed: config.seed, sellers: config.sellers, skus: config.skus)
        self.state = SandboxState(config: config)
        self.logger = logger
    }

    /// Builds the Hummingbird application; `onRunning` receives the bound URL (port 0 picks a free port).
    ///
    /// - Parameter tls: serve HTTPS with this certificate and TLS version range instead of plain HTTP.
    public func application(host: String, port: Int, tls: SandboxTLS? = nil, onRunning: @escaping @Sendable (String) async -> Void) throws
        -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            await self.respond(request)
        }
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1()
        let scheme = tls == nil ? "http" : "https"
        return Application(responder: responder, server: server,
                           configuration: .init(address: .hostname(host, port: port), serverName: "optmazon-sandbox"),
                           onServerRunning: { [self] channel in
                               let bound = channel.localAddress?.port ?? port
                               let url = "\(scheme)://\(host):\(bound)"
                               await state.setBaseURL(url)
                               await onRunning(url)
                           }, logger: logger)
    }

    /// Revokes a seller at runtime: its refresh tokens answer `invalid_grant` and its access tokens stop working.
    public func revoke(seller: String) async { await state.revoke(seller) }

    /// Arms `fault` for the next `count` requests matching `operation` (any when nil) and `seller`.
    public func arm(_ fault: SandboxFault, operation: String? = nil, seller: String? = nil, count: Int = 1) async {
        await state.arm(fault, operation: operation, seller: seller, count: count)
    }

    /// Ads reports made so far (a request answered 425 as a duplicate makes none).
    public func adsReportsMade() async -> Int { await state.adsReportCount }

    /// Requests served and 429s sent per operation, and LWA grants issued.
    public func counts() async -> (requests: [String: Int], throttled: [String: Int], tokenGrants: Int) { await state.counts() }

    // MARK: - Dispatch

    struct Incoming {
        var method: HTTPRequest.Method
        var segments: [String]
        var query: [String: String]
        var headers: HTTPFields
        var body: Data
    }

    func respond(_ request: Request) async -> Response {
        var request = request
        let body = (try? await request.collectBody(upTo: 4 << 20)).map { Data(buffer: $0) } ?? Data()
        let path = request.uri.path
        let incoming = Incoming(method: request.method,
                                segments: path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) },
                                query: Self.parseQuery(request.uri.query ?? ""), headers: request.headers, body: body)
        do {
            return try await route(incoming)
        } catch let reply as Reply {
            return reply.response
        } catch {
            return Self.json(["errors": [["code": "InternalFailure", "message": "We encountered an internal error. Please try again."]]], status: .internalServerError)
        }
    }

    /// An early answer (error or fault) thrown out of a handler.
    struct Reply: Error { var response: Response }

    func route(_ r: Incoming) async throws -> Response {
        let s = r.segments
        switch (r.method, s.count) {
        case (.post, 3) where s == ["auth", "o2", "token"]:
            return try await lwaToken(r)
        case (.post, 2) where s[0] == "_sandbox" && s[1] == "revoke":
            guard let seller = r.query["seller"] else { return Self.json(["error": "seller query parameter required"], status: .badRequest) }
            await revoke(seller: seller)
            return Self.json(["revoked": seller], status: .ok)
        case (.post, 2) where s[0] == "_sandbox" && s[1] == "fault":
            guard let kind = r.query["kind"].flatMap(SandboxFault.init(rawValue:)) else {
                return Self.json(["error": "kind must be one of \(SandboxFault.allCases.map(\.rawValue))"], status: .badRequest)
            }
            await arm(kind, operation: r.query["operation"], seller: r.query["seller"], count: Int(r.query["count"] ?? "1") ?? 1)
            return Self.json(["armed": kind.rawValue], status: .ok)
        case (.get, 2) where s[0] == "_documents":
            return try await documentDownload(r, id: s[1])
        case (.get, 3) where s == ["sellers", "v1", "marketplaceParticipations"]:
            return try await spapi(r, "getMarketplaceParticipations") { seller, _ in self.participations(seller) }
        case (.post, 3) where s == ["reports", "2021-06-30", "reports"]:
            return try await spapi(r, "createReport", success: .accepted) { seller, _ in try await self.createReport(seller, r) }
        case (.get, 4) where s[0...2] == ["reports", "2021-06-30", "reports"]:
            return try await spapi(r, "getReport") { seller, _ in try await self.getReport(seller, id: s[3]) }
        case (.get, 4) where s[0...2] == ["reports", "2021-06-30", "documents"]:
            return try await spapi(r, "getReportDocument") { seller, _ in try await self.getReportDocument(seller, id: s[3], r) }
        case (.get, 5) where s[0...2] == ["listings", "2021-08-01", "items"]:
            return try await spapi(r, "getListingsItem") { seller, pii in try self.listingsItem(seller, r, sellerID: s[3], sku: s[4], pii: pii) }
        case (.get, 4) where s[0...2] == ["catalog", "2022-04-01", "items"]:
            return try await spapi(r, "getCatalogItem") { seller, _ in try self.catalogItem(seller, r, asin: s[3]) }
        case (.post, 5) where s == ["batches", "products", "pricing", "v0", "itemOffers"]:
            return try await spapi(r, "getItemOffersBatch") { seller, _ in try self.itemOffersBatch(seller, r) }
        case (.get, 4) where s == ["products", "pricing", "v0", "competitivePrice"]:
            return try await spapi(r, "getCompetitivePricing") { seller, _ in try self.competitivePricing(seller, r) }
        case (.post, 6) where s == ["batches", "products", "pricing", "2022-05-01", "offer", "featuredOfferExpectedPrice"]:
            return try await spapi(r, "getFeaturedOfferExpectedPriceBatch") { seller, _ in try self.foepBatch(seller, r) }
        case (.get, 2) where s == ["v2", "profiles"]:
            return try await ads(r, "listProfiles", needsScope: false) { seller in self.profiles(seller) }
        case (.post, 3) where s[0] == "sp" && s[2] == "list":
            let op = ["campaigns": "listCampaigns", "adGroups": "listAdGroups", "keywords": "listKeywords", "targets": "listTargets"][s[1]]
            guard let op else { break }
            return try await ads(r, op, needsScope: true) { seller in try self.adsList(seller, kind: s[1], r) }
        case (.post, 2) where s == ["reporting", "reports"]:
            return try await ads(r, "createAsyncReport", needsScope: true) { seller in try await self.createAdsReport(seller, r) }
        case (.get, 3) where s[0] == "reporting" && s[1] == "reports":
            return try await ads(r, "getAsyncReport", needsScope: true) { seller in try await self.getAdsReport(seller, id: s[2]) }
        default:
            break
        }
        return Self.json(["errors": [["code": "NotFound", "message": "Resource not found."]]], status: .notFound)
    }

    // MARK: - Common SP-API / Ads handling

    /// Auth (`x-amz-access-token`), faults, the operation's rate limit, then the handler; adds Amazon's headers.
    func spapi(_ r: Incoming, _ operation: String, success: HTTPResponse.Status = .ok,
               _ handler: (SandboxSeller, Bool) async throws -> Any) async throws -> Response {
        let token = r.headers[HTTPField.Name("x-amz-access-token")!] ?? ""
        let sellerID = await state.lookup(token: token, api: "spapi")
        let fault = try await applyFault(r, operation: operation, seller: sellerID, ads: false)
        guard let sellerID, let seller = world.seller(id: sellerID) else {
            return Self.json(["errors": [["code": "Unauthorized", "message": "Access to requested resource is denied.",
                                          "details": "The access token you provided is revoked, malformed or invalid."]]], status: .forbidden)
        }
        let plan = Self.plans[operation]!
        guard await state.admit(seller: seller.sellerID, operation: operation, rate: plan.rate, burst: plan.burst) else {
            return Self.json(["errors": [["code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."]]], status: .tooManyRequests)
        }
        if fault == .malformed { return Self.raw(#"{"payload": [{"marketplace": {"id": "ATVPD"#, status: success, contentType: "application/json") }
        let body = try await handler(seller, fault == .pii)
        var response = Self.json(body, status: success)
        response.headers[HTTPField.Name("x-amzn-RateLimit-Limit")!] = String(plan.rate)
        return response
    }

    func ads(_ r: Incoming, _ operation: String, needsScope: Bool, _ handler: (SandboxSeller) async throws -> Any) async throws -> Response {
        let auth = r.headers[.authorization] ?? ""
        let token = auth.hasPrefix("Bearer ") ? String(auth.dropFirst(7)) : ""
        let sellerID = await state.lookup(token: token, api: "ads")
        let fault = try await applyFault(r, operation: operation, seller: sellerID, ads: true)
        guard let sellerID, let seller = world.seller(id: sellerID) else {
            return Self.json(["code": "UNAUTHORIZED", "details": "Not authorized to access this advertiser"], status: .unauthorized)
        }
        let clientID = r.headers[HTTPField.Name("Amazon-Advertising-API-ClientId")!]
        guard let clientID, config.clientID == nil || clientID == config.clientID else {
            return Self.json(["code": "UNAUTHORIZED", "details": "Invalid or missing Amazon-Advertising-API-ClientId"], status: .unauthorized)
        }
        if needsScope {
            guard r.headers[HTTPField.Name("Amazon-Advertising-API-Scope")!] == seller.adsProfileID else {
                return Self.json(["code": "UNAUTHORIZED", "details": "Invalid or missing Amazon-Advertising-API-Scope"], status: .unauthorized)
            }
        }
        let plan = Self.plans[operation]!
        guard await state.admit(seller: seller.sellerID, operation: operation, rate: plan.rate, burst: plan.burst) else {
            var response = Self.json(["code": "429", "details": "Too Many Requests"], status: .tooManyRequests)
            response.headers[.retryAfter] = "1"
            return response
        }
        if fault == .malformed { return Self.raw(#"{"campaigns": [{"campaignId": "#, status: .ok, contentType: "application/json") }
        return Self.json(try await handler(seller), status: .ok)
    }

    /// Applies a header (`x-optmazon-fault`), armed or flag fault; returns faults that shape the body.
    func applyFault(_ r: Incoming, operation: String, seller: String?, ads: Bool) async throws -> SandboxFault? {
        var fault = r.headers[HTTPField.Name("x-optmazon-fault")!].flatMap(SandboxFault.init(rawValue:))
        if fault == nil { fault = await state.takeFault(operation: operation, seller: seller) }
        if fault == nil { fault = config.fault }
        guard let fault else { return nil }
        switch fault {
        case .throttle:
            await state.countThrottle(operation)
            var response = ads ? Self.json(["code": "429", "details": "Too Many Requests"], status: .tooManyRequests)
                : Self.json(["errors": [["code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."]]], status: .tooManyRequests)
            if ads { response.headers[.retryAfter] = "1" }
            throw Reply(response: response)
        case .serverError:
            throw Reply(response: ads ? Self.json(["code": "INTERNAL_ERROR", "details": "Internal error"], status: .internalServerError)
                        : Self.json(["errors": [["code": "InternalFailure", "message": "We encountered an internal error. Please try again."]]], status: .internalServerError))
        case .slow:
            try await Task.sleep(for: .seconds(config.slowSeconds))
            return nil
        case .hang:
            try await Task.sleep(for: .seconds(600))
            return nil
        case .expiredToken:
            if let seller { await state.expireTokens(of: seller) }
            throw Reply(response: ads ? Self.json(["code": "UNAUTHORIZED", "details": "Access token has expired"], status: .unauthorized)
                        : Self.json(["errors": [["code": "Unauthorized", "message": "Access to requested resource is denied.",
                                                 "details": "The access token you provided has expired."]]], status: .forbidden))
        case .malformed, .pii, .truncatedGzip:
            return fault
        }
    }

    // MARK: - LWA

    func lwaToken(_ r: Incoming) async throws -> Response {
        let contentType = r.headers[.contentType] ?? ""
        var fields: [String: String] = [:]
        if contentType.contains("json") {
            guard let object = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any] else {
                return Self.json(["error": "invalid_request", "error_description": "Malformed JSON body"], status: .badRequest)
            }
            for (k, v) in object { fields[k] = v as? String }
        } else {
            fields = Self.parseQuery(String(decoding: r.body, as: UTF8.self))
        }
        var lwaFault = r.headers[HTTPField.Name("x-optmazon-fault")!].flatMap(SandboxFault.init(rawValue:))
        if lwaFault == nil { lwaFault = await state.takeFault(operation: "lwa", seller: nil) }
        if let fault = lwaFault {
            switch fault {
            case .serverError: return Self.json(["error": "server_error", "error_description": "Internal server error"], status: .internalServerError)
            case .hang: try await Task.sleep(for: .seconds(600))
            case .slow: try await Task.sleep(for: .seconds(config.slowSeconds))
            case .malformed: return Self.raw(#"{"access_token": "Atza|"#, status: .ok, contentType: "application/json")
            default: break
            }
        }
        guard let clientID = fields["client_id"], let secret = fields["client_secret"], !clientID.isEmpty, !secret.isEmpty,
              config.clientID == nil || (clientID == config.clientID && secret == config.clientSecret) else {
            return Self.json(["error": "invalid_client", "error_description": "Client authentication failed"], status: .unauthorized)
        }
        switch fields["grant_type"] {
        case "refresh_token":
            guard let refresh = fields["refresh_token"], !refresh.isEmpty else {
                return Self.json(["error": "invalid_request", "error_description": "The request is missing a required parameter : refresh_token"], status: .badRequest)
            }
            guard let (seller, api) = refreshOwner(refresh), await !state.isRevoked(seller.sellerID) else {
                return Self.json(["error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission."], status: .badRequest)
            }
            let token = await state.issueToken(seller: seller.sellerID, api: api)
            return Self.json(["access_token": token, "token_type": "bearer", "expires_in": 3600, "refresh_token": refresh], status: .ok)
        case "authorization_code":
            guard let code = fields["code"], let (seller, api) = codeOwner(code), await state.consume(code: code),
                  await !state.isRevoked(seller.sellerID) else {
                return Self.json(["error": "invalid_grant", "error_description": "The request has an invalid grant parameter : code"], status: .badRequest)
            }
            let token = await state.issueToken(seller: seller.sellerID, api: api)
            return Self.json(["access_token": token, "token_type": "bearer", "expires_in": 3600,
                              "refresh_token": api == "ads" ? seller.adsRefreshToken : seller.spapiRefreshToken], status: .ok)
        default:
            return Self.json(["error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token or authorization_code"], status: .badRequest)
        }
    }

    func refreshOwner(_ token: String) -> (SandboxSeller, String)? {
        for s in world.sellers {
            if s.spapiRefreshToken == token { return (s, "spapi") }
            if s.adsRefreshToken == token { return (s, "ads") }
        }
        return nil
    }

    func codeOwner(_ code: String) -> (SandboxSeller, String)? {
        for s in world.sellers {
            if s.spapiAuthorizationCode == code { return (s, "spapi") }
            if s.adsAuthorizationCode == code { return (s, "ads") }
        }
        return nil
    }

    // MARK: - Helpers

    static func json(_ object: Any, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return raw(data, status: status, contentType: "application/json")
    }

    static func raw(_ string: String, status: HTTPResponse.Status, contentType: String) -> Response {
        raw(Data(string.utf8), status: status, contentType: contentType)
    }

    static func raw(_ data: Data, status: HTTPResponse.Status, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[HTTPField.Name("x-amzn-RequestId")!] = UUID().uuidString.lowercased()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            out[key] = value
        }
        return out
    }

    static func badRequest(_ message: String, ads: Bool = false) -> Reply {
        Reply(response: ads ? json(["code": "400", "details": message], status: .badRequest)
              : json(["errors": [["code": "InvalidInput", "message": message]]], status: .badRequest))
    }

    static func gzip(_ data: Data) -> Data {
        var buffer = ByteBuffer(data: data)
        guard let compressed = try? buffer.compress(with: .gzip()) else { return data }
        return Data(buffer: compressed)
    }
}

/// HTTPS for the sandbox: a PEM certificate and key, and the TLS versions it accepts.
///
/// Lets tests (and operators checking a deployment) prove the client's TLS policy against a real server,
/// for example one capped at TLS 1.2 that a TLS 1.3-only client must refuse.
public struct SandboxTLS: Sendable {
    public var certificatePath: String
    public var privateKeyPath: String
    public var minimumVersion: TLSVersion
    public var maximumVersion: TLSVersion?

    public init(certificatePath: String, privateKeyPath: String, minimumVersion: TLSVersion = .tlsv12, maximumVersion: TLSVersion? = nil) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
    }

    func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = minimumVersion
        configuration.maximumTLSVersion = maximumVersion
        return configuration
    }
}
