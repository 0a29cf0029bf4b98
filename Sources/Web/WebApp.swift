import HTTPTypes
public import Hummingbird
import NIOCore
public import Logging

/// The `optmazon-web` HTTP surface: onboarding (`/authorize`, `/callback`, `/ads/authorize`,
/// `/ads/callback`) and operations (`/healthz`, `/metrics`).
///
/// Stateless: every answer is computed from Redis and the registry, so several instances can run
/// behind one load balancer.
public struct WebApp: Sendable {
    /// The consent flows behind `/authorize`, `/callback` and `/ads/*`.
    public let onboarding: OnboardingFlow
    /// The checks behind `/healthz`.
    public let health: HealthChecker
    /// The exposition behind `/metrics`.
    public let metrics: MetricsExporter
    let logger: Logger

    public init(onboarding: OnboardingFlow, health: HealthChecker, metrics: MetricsExporter, logger: Logger) {
        self.onboarding = onboarding
        self.health = health
        self.metrics = metrics
        self.logger = logger
    }

    /// The routes; query strings are never logged (they carry authorization codes).
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        let onboarding = self.onboarding, health = self.health, metrics = self.metrics, logger = self.logger

        router.get("authorize") { request, _ in
            Self.response(onboarding.authorize(marketplace: request.uri.queryParameters.get("marketplace")))
        }
        router.get("callback") { request, _ in
            let query = request.uri.queryParameters
            return Self.response(await onboarding.callback(state: query.get("state"), sellingPartnerID: query.get("selling_partner_id"),
                                                           code: query.get("spapi_oauth_code"), amazonError: query.get("error")))
        }
        router.get("ads/authorize") { request, _ in
            Self.response(await onboarding.adsAuthorize(seller: request.uri.queryParameters.get("seller")))
        }
        router.get("ads/callback") { request, _ in
            let query = request.uri.queryParameters
            return Self.response(await onboarding.adsCallback(state: query.get("state"), code: query.get("code"), amazonError: query.get("error")))
        }
        router.get("healthz") { _, _ in
            let report = await health.check()
            if !report.healthy { logger.warning("health check failed", metadata: ["failed": "\(report.failures.keys.sorted().joined(separator: ","))"]) }
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: report.healthy ? .ok : .serviceUnavailable, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: report.json)))
        }
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.cacheControl] = "no-store"
            do {
                let text = try await metrics.render()
                headers[.contentType] = MetricsExporter.contentType
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            } catch {
                logger.error("metrics scrape failed", metadata: ["error": "\(error)"])
                headers[.contentType] = "text/plain; charset=utf-8"
                return Response(status: .serviceUnavailable, headers: headers,
                                body: ResponseBody(byteBuffer: ByteBuffer(string: "metrics unavailable: \(error)\n")))
            }
        }
        return router
    }

    /// The application on `host:port` (0 = a free port); `onRunning` receives `http://host:port` once it accepts connections.
    public func application(host: String, port: Int, onRunning: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "optmazon-web"),
                    onServerRunning: { channel in
                        await onRunning("http://\(host):\(channel.localAddress?.port ?? port)")
                    }, logger: logger)
    }

    static func response(_ reply: OnboardingReply) -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        switch reply {
        case let .redirect(location):
            headers[.location] = location
            return Response(status: .found, headers: headers)
        case let .page(status, page):
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: HTTPResponse.Status(code: status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: page.html)))
        }
    }
}

/// Adds `Referrer-Policy: no-referrer` (Amazon asks for it on the redirect page, which carries the
/// code in its URL), `X-Content-Type-Options: nosniff` and a frame ban to every response.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[Self.referrerPolicy] = "no-referrer"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }
}
