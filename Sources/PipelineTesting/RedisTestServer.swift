import Foundation
import Redis
import Synchronization

/// A real `redis-server` for tests, on a free loopback port, stopped by PID.
///
/// Tests share one server per process when `OPTMAZON_TEST_REDIS_URL` is set (scripts/test sets
/// it) and isolate themselves with a unique key prefix; tests that restart Redis start their own.
public final class RedisTestServer: Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process
    private let appendOnly: Bool

    public var pid: Int32 { process.processIdentifier }

    /// The URL of this server.
    public var url: String { "redis://127.0.0.1:\(port)/0" }
    public var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    /// Starts a server with AOF on (`appendfsync always`), so a restart loses nothing.
    public static func start(appendOnly: Bool = true, port: Int? = nil, directory: URL? = nil) async throws -> RedisTestServer {
        let dir = try directory ?? TemporaryDirectory.make(prefix: "redis")
        let chosen = try port ?? freeLoopbackPort()
        let server = try RedisTestServer(port: chosen, directory: dir, appendOnly: appendOnly)
        try await server.waitUntilReady()
        return server
    }

    private init(port: Int, directory: URL, appendOnly: Bool) throws {
        self.port = port
        self.directory = directory
        self.appendOnly = appendOnly
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedisTestServer.redisServerPath())
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory.path,
                             "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no",
                             "--logfile", directory.appendingPathComponent("redis.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// Stops the server (`SHUTDOWN`, then SIGKILL if it lingers) and waits for it to exit.
    ///
    /// SHUTDOWN rather than SIGTERM: a child of the test runner may inherit a signal mask that
    /// blocks SIGTERM, and redis-server handles signals with plain handlers.
    public func stop() {
        guard process.isRunning else { return }
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["-h", "127.0.0.1", "-p", String(port), "SHUTDOWN"]
        cli.standardOutput = FileHandle.nullDevice
        cli.standardError = FileHandle.nullDevice
        if (try? cli.run()) != nil { cli.waitUntilExit() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Stops this server and starts a new one on the same port and data directory (AOF replays).
    public func restarted() async throws -> RedisTestServer {
        stop()
        return try await RedisTestServer.start(appendOnly: appendOnly, port: port, directory: directory)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    private func waitUntilReady() async throws {
        let client = RedisClient(endpoint: endpoint, timeout: 1, label: "test-probe")
        try await eventually("redis-server on port \(port) answers PING", timeout: 20) {
            guard process.isRunning else { throw CommandFailure("redis-server exited; see \(directory.path)/redis.log") }
            return (try? await client.send(["PING"]))?.string == "PONG"
        }
    }

    private static func redisServerPath() -> String {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/bin/redis-server"
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CommandFailure("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw CommandFailure("bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A shared Redis for a test process: `OPTMAZON_TEST_REDIS_URL` if set, else one server started on first use.
public enum SharedRedis {
    private static let server = Task<(endpoint: RedisEndpoint, owned: RedisTestServer?), any Error> {
        if let url = ProcessInfo.processInfo.environment["OPTMAZON_TEST_REDIS_URL"] {
            return (try RedisEndpoint(url: url), nil)
        }
        let started = try await RedisTestServer.start(appendOnly: false)
        sharedPID.store(started.pid, ordering: .relaxed)
        atexit {
            let pid = SharedRedis.sharedPID.load(ordering: .relaxed)
            if pid > 0 { kill(pid, SIGKILL) }
        }
        return (started.endpoint, started)
    }
    /// PID of the server started for this test process, killed at exit (the server object lives on in memory).
    static let sharedPID = Atomic<Int32>(0)

    /// The endpoint of the shared server.
    public static func endpoint() async throws -> RedisEndpoint {
        try await server.value.endpoint
    }

    /// A key prefix no other test uses, so tests can share one server.
    public static func uniquePrefix(_ name: String = #function) -> String {
        let cleaned = name.filter { $0.isLetter || $0.isNumber }
        return "t-\(cleaned.prefix(24))-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Deletes every key under `prefix` (test cleanup).
    public static func deleteKeys(prefix: String) async throws {
        let client = RedisClient(endpoint: try await endpoint(), label: "test-cleanup")
        var cursor = "0"
        repeat {
            let reply = try await client.send(["SCAN", cursor, "MATCH", "{\(prefix):*", "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2 else { return }
            cursor = parts[0].string ?? "0"
            let keys = parts[1].array?.compactMap(\.string) ?? []
            if !keys.isEmpty { _ = try await client.send(["DEL"] + keys) }
        } while cursor != "0"
    }
}
