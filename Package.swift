// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "OptMazon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "optmazon", targets: ["optmazon"]),
        .executable(name: "optmazon-fetcher", targets: ["optmazon-fetcher"]),
        .executable(name: "optmazon-analyzer", targets: ["optmazon-analyzer"]),
        .executable(name: "optmazon-alerter", targets: ["optmazon-alerter"]),
        .executable(name: "optmazon-janitor", targets: ["optmazon-janitor"]),
        .executable(name: "optmazon-queue-probe", targets: ["optmazon-queue-probe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
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

        // Configuration (file + OPTMAZON_* environment) and process wiring shared by the executables.
        .target(name: "OptMazonConfig", dependencies: [
            "Redis", "JobQueue", "JobQueueRedis",
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "Runtime", dependencies: [
            "OptMazonConfig", "JobQueue", "JobQueueRedis", "Redis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Executables: thin mains that wire services.
        .executableTarget(name: "optmazon-fetcher", dependencies: ["Runtime", "JobQueue"]),
        .executableTarget(name: "optmazon-analyzer", dependencies: ["Runtime", "JobQueue"]),
        .executableTarget(name: "optmazon-alerter", dependencies: ["Runtime", "JobQueue"]),
        .executableTarget(name: "optmazon-janitor", dependencies: ["Runtime", "JobQueue"]),
        .executableTarget(name: "optmazon", dependencies: ["Runtime", "JobQueue", "JobQueueRedis", "Domain"]),

        .executableTarget(name: "optmazon-queue-probe", dependencies: ["Runtime", "JobQueue", "JobQueueRedis", "Redis"]),

        // Test support: a real redis-server on a free port, process runner, polling waits.
        .target(name: "PipelineTesting", dependencies: ["Redis"]),
        .testTarget(name: "JobQueueTests", dependencies: ["JobQueue", "JobQueueRedis", "Redis", "Domain", "OptMazonConfig", "PipelineTesting"]),
    ]
)
