import Foundation
import Hummingbird
import Logging

/// A sandbox running in-process (tests, benchmarks, `scripts/demo`), stopped with `stop()`.
public final class RunningSandbox: Sendable {
    public let server: SandboxServer
    /// `http://HOST:PORT` the sandbox listens on; LWA is at `url + "/auth/o2/token"`.
    public let url: String
    private let task: Task<Void, any Error>

    init(server: SandboxServer, url: String, task: Task<Void, any Error>) {
        self.server = server
        self.url = url
        self.task = task
    }

    /// Starts a sandbox on `host:port` (0 = any free port) and returns once it accepts connections.
    public static func start(_ config: SandboxConfig, host: String = "127.0.0.1", port: Int = 0, tls: SandboxTLS? = nil,
                             logger: Logger = Logger(label: "optmazon.sandbox")) async throws -> RunningSandbox {
        let server = SandboxServer(config: config, logger: logger)
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let app = try server.application(host: host, port: port, tls: tls) { url in
            continuation.yield(url)
            continuation.finish()
        }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        guard let url = await iterator.next() else {
            task.cancel()
            throw SandboxStartError()
        }
        return RunningSandbox(server: server, url: url, task: task)
    }

    /// Stops the server and waits until its port is closed.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// The sandbox exited before it started listening (port in use, bad host).
public struct SandboxStartError: Error, CustomStringConvertible {
    public var description: String { "optmazon-sandbox stopped before it started listening" }
}
