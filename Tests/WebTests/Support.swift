import AmazonClient
import AsyncHTTPClient
import Domain
import Foundation
import Hummingbird
import JobQueue
import JobQueueRedis
import Logging
import NIOCore
import PipelineTesting
import Redis
import Sandbox
import SellerStore
import Synchronization
import Web

/// A clock tests set by hand (state expiry).
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ date: Date = Date()) { value = Mutex(date) }

    func now() -> Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// An HTTP answer as the test reads it.
struct Answer {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// Query parameters of the `Location` header.
    var locationQuery: [String: String] {
        guard let location = header("Location"), let items = URLComponents(string: location)?.queryItems else { return [:] }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

/// The web process under test, wired exactly like `optmazon-web` but in-process: a live Hummingbird
/// server on 127.0.0.1, the in-process sandbox as Amazon, a real Redis, a real encrypted registry.
final class WebHarness: Sendable {
    static let stateSecret = "test-state-secret-0123456789abcdef-0123456789"
    static let lwaClientID = "amzn1.application-oa2-client.webtests"
    static let lwaClientSecret = "webtests-secret"

    let sandbox: RunningSandbox
    let root: URL
    let storage: SellerStorage
    let control: ControlStore
    let redis: RedisEndpoint
    let keys: RedisKeys
    let queue: RedisJobQueue
    let amazon: AmazonClient
    let clock: TestClock
    let logs: CapturedLogs
    let configuration: WebConfiguration
    let signer: StateSigner
    let url: String
    private let server: Task<Void, any Error>
    private let http: HTTPClient

    /// - Parameters:
    ///   - redis: a private Redis (tests that stop it); the shared test Redis otherwise.
    ///   - lwaClientSecret: what the web process sends to LWA (a wrong one makes LWA answer `invalid_client`).
    static func start(beta: Bool = false, redis: RedisEndpoint? = nil, lwaClientSecret: String = WebHarness.lwaClientSecret) async throws -> WebHarness {
        let sandbox = try await RunningSandbox.start(SandboxConfig(sellers: 3, skus: 2, clientID: lwaClientID, clientSecret: Self.lwaClientSecret),
                                                     logger: quietLogger())
        let root = try TemporaryDirectory.make(prefix: "web")
        let storage = try SellerStorage(StoreLocations(dataDirectory: root.appendingPathComponent("data").path,
                                                       keyDirectory: root.appendingPathComponent("keys").path, masterKey: MasterKey.generate()))
        let control = try await storage.openControlStore()
        let endpoint: RedisEndpoint
        if let redis { endpoint = redis } else { endpoint = try await SharedRedis.endpoint() }
        let keys = RedisKeys(prefix: SharedRedis.uniquePrefix("web"))
        let logs = CapturedLogs()
        let queue = RedisJobQueue(endpoint: endpoint, keys: keys, logger: logs.logger)
        let base = URL(string: sandbox.url)!
        let amazon = AmazonClient(config: AmazonClientConfig(endpoints: AmazonEndpoints(spapi: base, lwaToken: base.appendingPathComponent("auth/o2/token"), ads: base),
                                                             lwaClientID: lwaClientID, lwaClientSecret: lwaClientSecret,
                                                             retry: RetryPolicy(maxThrottleAttempts: 2, maxServerErrorAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)),
                                  logger: logs.logger)
        let configuration = WebConfiguration(publicBaseURL: URL(string: "https://onboard.optmazon.test/")!, applicationID: "amzn1.sp.solution.webtests",
                                             sellerCentralURL: URL(string: "https://sellercentral.optmazon.test")!, beta: beta,
                                             adsConsentURL: URL(string: "https://www.amazon.test/ap/oa")!, lwaClientID: lwaClientID,
                                             defaultMarketplace: Marketplace.named("ATVPDKIKX0DER")!, stateLifetime: 600)
        let signer = try StateSigner(secret: stateSecret, lifetime: 600)
        let clock = TestClock()
        let flow = OnboardingFlow(configuration: configuration, signer: signer, ledger: RedisStateLedger(client: queue.client, keys: keys),
                                  exchanger: amazon, control: control, queue: queue, logger: logs.logger, now: { clock.now() })
        let health = HealthChecker(redis: RedisClient(endpoint: endpoint, timeout: 2, label: "test-health"), keyDirectory: storage.locations.keyDirectory)
        let metrics = MetricsExporter(shardQueues: MetricsExporter.shardQueues(endpoint: endpoint, keys: keys, deadLetterCap: 100, logger: logs.logger),
                                      control: control, now: { clock.now() })
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let app = WebApp(onboarding: flow, health: health, metrics: metrics, logger: logs.logger)
            .application(host: "127.0.0.1", port: 0) { url in
                continuation.yield(url)
                continuation.finish()
            }
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        guard let url = await iterator.next() else {
            server.cancel()
            throw CommandFailure("optmazon-web (in-process) stopped before it listened")
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton,
                              configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60))))
        return WebHarness(sandbox: sandbox, root: root, storage: storage, control: control, redis: endpoint, keys: keys, queue: queue,
                          amazon: amazon, clock: clock, logs: logs, configuration: configuration, signer: signer, url: url, server: server, http: http)
    }

    private init(sandbox: RunningSandbox, root: URL, storage: SellerStorage, control: ControlStore, redis: RedisEndpoint, keys: RedisKeys,
                 queue: RedisJobQueue, amazon: AmazonClient, clock: TestClock, logs: CapturedLogs, configuration: WebConfiguration,
                 signer: StateSigner, url: String, server: Task<Void, any Error>, http: HTTPClient) {
        self.sandbox = sandbox
        self.root = root
        self.storage = storage
        self.control = control
        self.redis = redis
        self.keys = keys
        self.queue = queue
        self.amazon = amazon
        self.clock = clock
        self.logs = logs
        self.configuration = configuration
        self.signer = signer
        self.url = url
        self.server = server
        self.http = http
    }

    /// A synthetic seller of the sandbox (its codes and tokens).
    func seller(_ index: Int) -> SandboxSeller { sandbox.server.world.sellers[index] }

    /// GET `pathAndQuery` on the web process; redirects are not followed.
    func get(_ pathAndQuery: String) async throws -> Answer {
        let response = try await http.execute(HTTPClientRequest(url: url + pathAndQuery), timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: body))
    }

    /// `GET /authorize` and the state Amazon would carry back.
    func authorize(_ query: String = "") async throws -> (answer: Answer, state: String) {
        let answer = try await get("/authorize\(query)")
        return (answer, answer.locationQuery["state"] ?? "")
    }

    /// What Amazon's redirect to `/callback` looks like after the seller consented.
    func callback(state: String?, seller: String?, code: String?) async throws -> Answer {
        var items: [URLQueryItem] = []
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        if let seller { items.append(URLQueryItem(name: "selling_partner_id", value: seller)) }
        if let code { items.append(URLQueryItem(name: "spapi_oauth_code", value: code)) }
        return try await get("/callback" + Self.query(items))
    }

    /// Runs the SP-API flow for sandbox seller `index` end to end.
    @discardableResult
    func onboard(_ index: Int) async throws -> Answer {
        let (_, state) = try await authorize()
        return try await callback(state: state, seller: seller(index).sellerID, code: seller(index).spapiAuthorizationCode)
    }

    static func query(_ items: [URLQueryItem]) -> String {
        var components = URLComponents()
        components.queryItems = items
        // URLComponents leaves `+` alone, which a form decoder would read as a space.
        return (components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") }) ?? ""
    }

    /// Every job waiting in the `fetch` stream.
    func fetchJobs() async throws -> [JobEnvelope] {
        let reply = try await queue.client.send(["XRANGE", keys.stream(.fetch), "-", "+"])
        return (reply.array ?? []).compactMap { entry -> JobEnvelope? in
            guard let fields = entry.array?.last?.array, fields.count >= 2, let text = fields[1].string,
                  case let .success(envelope) = JobEnvelope.decode(text) else { return nil }
            return envelope
        }
    }

    /// The registry holds no seller and the queue no job: what every refusal must leave behind.
    func expectNothingStored() async throws -> Bool {
        let sellers = try await control.sellers()
        let jobs = try await fetchJobs()
        return sellers.isEmpty && jobs.isEmpty
    }

    /// Every byte of the data directory (registry database, WAL), to look for plaintext.
    func dataDirectoryBytes() throws -> Data {
        var all = Data()
        let directory = URL(fileURLWithPath: storage.locations.dataDirectory)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            all.append(try Data(contentsOf: directory.appendingPathComponent(name)))
        }
        return all
    }

    func stop() async {
        server.cancel()
        _ = try? await server.value
        try? await http.shutdown()
        try? await amazon.shutdown()
        await sandbox.stop()
        await control.close()
        try? await SharedRedis.deleteKeys(prefix: keys.prefix)
        try? FileManager.default.removeItem(at: root)
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}
