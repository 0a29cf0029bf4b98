// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "OptMazon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "optmazon", targets: ["optmazon"]),
        .executable(name: "optmazon-scheduler", targets: ["optmazon-scheduler"]),
        .executable(name: "optmazon-fetcher", targets: ["optmazon-fetcher"]),
        .executable(name: "optmazon-analyzer", targets: ["optmazon-analyzer"]),
        .executable(name: "optmazon-alerter", targets: ["optmazon-alerter"]),
        .executable(name: "optmazon-janitor", targets: ["optmazon-janitor"]),
        .executable(name: "optmazon-queue-probe", targets: ["optmazon-queue-probe"]),
        .executable(name: "optmazon-bench", targets: ["optmazon-bench"]),
        .executable(name: "optmazon-sandbox", targets: ["optmazon-sandbox"]),
        .executable(name: "optmazon-web", targets: ["optmazon-web"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Seller-data value types shared by every stage. Foundation only.
        .target(name: "Domain"),

        // Redis: the only target that talks to hiredis.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "Redis", dependencies: ["CHiredis", .product(name: "Crypto", package: "swift-crypto")]),

        // The job queue: protocol, in-memory twin, worker service; and its Redis Streams implementation.
        .target(name: "JobQueue", dependencies: [
            "Domain",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "JobQueueRedis", dependencies: ["JobQueue", "Redis", "Domain", .product(name: "Logging", package: "swift-log")]),

        // The encrypted per-seller store: an AES-256-GCM page-encryption SQLite VFS (C, OpenSSL)
        // under GRDB; per-seller keys wrapped by the master key; the encrypted seller registry.
        .target(name: "CSQLiteCrypt", cSettings: [.define("_GNU_SOURCE")],
                linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("crypto")]),
        .target(name: "SellerStore", dependencies: ["Domain", "CSQLiteCrypt", .product(name: "GRDB", package: "GRDB.swift")]),

        // Amazon: the LWA / SP-API / Ads client (built from Amazon's models in ../shared/spapi),
        // and the local sandbox that speaks the same shapes for the demo and the tests.
        .target(name: "AmazonClient", dependencies: [
            "Domain",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),
        .target(name: "Sandbox", dependencies: [
            "Domain",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),

        // Amazon's rate limits as token buckets in Redis, shared by every fetcher process and machine.
        .target(name: "RateLimitRedis", dependencies: [
            "AmazonClient", "Domain", "Redis", "JobQueueRedis",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Privacy operations the janitor runs (retention, crypto-shred wipe with receipts, export),
        // and the scheduler (nightly runs per marketplace time zone, one leader at a time).
        .target(name: "Privacy", dependencies: [
            "Domain", "JobQueue", "SellerStore",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Scheduling", dependencies: [
            "Domain", "JobQueue", "JobQueueRedis", "Redis", "SellerStore", "Privacy",
            .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // The fetcher's jobs: a seller's run fans out per data set, stores each day idempotently
        // and fans in to exactly one analyze job.
        .target(name: "Fetching", dependencies: [
            "Domain", "JobQueue", "JobQueueRedis", "Redis", "SellerStore", "AmazonClient", "RateLimitRedis",
            .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Analysis: the explainable rules engine (pure), and the optional AI rewrite over an
        // OpenAI-compatible chat-completions endpoint.
        .target(name: "Analysis", dependencies: ["Domain"]),
        .target(name: "AnalysisAI", dependencies: [
            "Analysis", "Domain",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // The analyze job (store → rules engine → recommendations and alert outbox) and the alert
        // job (signed webhook and Slack digests from the outbox).
        .target(name: "Analyzing", dependencies: [
            "Analysis", "AnalysisAI", "Domain", "JobQueue", "SellerStore", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Alerting", dependencies: [
            "Domain", "JobQueue", "SellerStore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
        ]),

        // The onboarding and operations web process: SP-API and Ads consent flows, /healthz, /metrics.
        .target(name: "Web", dependencies: [
            "AmazonClient", "Domain", "JobQueue", "JobQueueRedis", "Redis", "SellerStore", "Privacy", "Scheduling", "OptMazonConfig", "Runtime",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Configuration (file + OPTMAZON_* environment) and process wiring shared by the executables.
        .target(name: "OptMazonConfig", dependencies: [
            "Redis", "JobQueue", "JobQueueRedis",
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "Runtime", dependencies: [
            "OptMazonConfig", "JobQueue", "JobQueueRedis", "Redis", "SellerStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Executables: thin mains that wire services.
        .executableTarget(name: "optmazon-fetcher", dependencies: ["Runtime", "JobQueue", "Fetching", "AmazonClient"]),
        .executableTarget(name: "optmazon-analyzer", dependencies: ["Runtime", "JobQueue", "Analyzing"]),
        .executableTarget(name: "optmazon-alerter", dependencies: ["Runtime", "JobQueue", "Alerting"]),
        .executableTarget(name: "optmazon-janitor", dependencies: ["Runtime", "JobQueue", "Privacy", "SellerStore"]),
        .executableTarget(name: "optmazon-scheduler", dependencies: [
            "Runtime", "JobQueue", "JobQueueRedis", "Scheduling", "SellerStore", "OptMazonConfig",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "optmazon", dependencies: ["Runtime", "JobQueue", "JobQueueRedis", "Domain", "SellerStore",
                                                         "Privacy", "Scheduling", "OptMazonConfig", "Analysis"]),
        .executableTarget(name: "optmazon-store-probe", dependencies: ["SellerStore", "Domain"]),
        .executableTarget(name: "optmazon-sandbox", dependencies: ["Sandbox", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .executableTarget(name: "optmazon-bench", dependencies: ["Runtime", "JobQueue", "JobQueueRedis", "Redis", "Domain", "SellerStore",
                                                              "Analysis", "AmazonClient", "Sandbox", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "optmazon-web", dependencies: [
            "Web", "Runtime", "OptMazonConfig", "AmazonClient", "JobQueueRedis", "Redis", "SellerStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "optmazon-queue-probe", dependencies: ["Runtime", "JobQueue", "JobQueueRedis", "Redis"]),

        // Test support: a real redis-server on a free port, process runner, polling waits; a loopback HTTP server.
        .target(name: "PipelineTesting", dependencies: ["Redis", .product(name: "Logging", package: "swift-log")]),
        .target(name: "AnalysisTesting"),
        .target(name: "HTTPTesting", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SellerStoreTests", dependencies: ["SellerStore", "Domain", "CSQLiteCrypt", "optmazon-store-probe",
                                                              .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "AmazonClientTests", dependencies: [
            "AmazonClient", "Sandbox", "Domain", "PipelineTesting", .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "SandboxTests", dependencies: [
            "Sandbox", "AmazonClient", "Domain",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
        ]),
        .testTarget(name: "RateLimitRedisTests", dependencies: ["RateLimitRedis", "AmazonClient", "Domain", "Redis", "JobQueueRedis", "PipelineTesting"]),
        .testTarget(name: "PrivacyTests", dependencies: [
            "Privacy", "SellerStore", "Domain", "JobQueue", "JobQueueRedis", "Redis", "PipelineTesting", "Sandbox",
            "optmazon", "optmazon-janitor", "optmazon-fetcher",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SchedulingTests", dependencies: [
            "Scheduling", "Privacy", "SellerStore", "Domain", "JobQueue", "JobQueueRedis", "Redis", "PipelineTesting",
            "optmazon-scheduler", "optmazon",
            .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "FetchingTests", dependencies: [
            "Fetching", "Domain", "JobQueue", "JobQueueRedis", "Redis", "SellerStore", "AmazonClient", "Sandbox", "PipelineTesting",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AnalyzingTests", dependencies: [
            "Analyzing", "Analysis", "Domain", "AnalysisTesting", "JobQueue", "SellerStore", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AlertingTests", dependencies: [
            "Alerting", "Domain", "JobQueue", "SellerStore", "HTTPTesting",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WebTests", dependencies: [
            "Web", "Sandbox", "AmazonClient", "SellerStore", "Domain", "JobQueue", "JobQueueRedis", "Redis", "OptMazonConfig",
            "PipelineTesting", "Privacy", "optmazon-web",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Domain", "AnalysisTesting"]),
        .testTarget(name: "AnalysisAITests", dependencies: [
            "AnalysisAI", "Analysis", "Domain", "HTTPTesting",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "JobQueueTests", dependencies: ["JobQueue", "JobQueueRedis", "Redis", "Domain", "OptMazonConfig", "PipelineTesting"]),
    ]
)
