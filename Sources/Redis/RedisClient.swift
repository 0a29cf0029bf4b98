import Dispatch
import Foundation

/// A thread-safe, async Redis client over one hiredis connection, reconnecting on demand.
///
/// Every hiredis call runs on this client's own serial dispatch queue, never on Swift's
/// cooperative thread pool, so a blocking `XREADGROUP ... BLOCK` cannot starve other tasks.
/// Use one client per concurrent blocking reader; short commands can share one.
public final class RedisClient: @unchecked Sendable {
    // Safety of @unchecked Sendable: `connection` is read and written only inside blocks
    // submitted to `queue`, a serial queue, so no two threads ever touch it at once; all
    // other stored properties are immutable `let`s of Sendable types.
    private let queue: DispatchQueue
    private var connection: RedisConnection?
    public let endpoint: RedisEndpoint
    private let timeout: TimeInterval

    /// Creates a client; nothing connects until the first command.
    /// - Parameter timeout: connect and socket timeout in seconds (blocking reads add their BLOCK time).
    public init(endpoint: RedisEndpoint, timeout: TimeInterval = 5, label: String = "redis") {
        self.endpoint = endpoint
        self.timeout = timeout
        self.queue = DispatchQueue(label: "optmazon.\(label)")
    }

    /// Sends one command. An error reply is returned as ``RedisValue/error(_:)``, not thrown.
    public func send(_ args: [String]) async throws -> RedisValue {
        try await pipeline([args])[0]
    }

    /// Sends a command that blocks on the server for up to `blockSeconds` (XREADGROUP BLOCK).
    public func sendBlocking(_ args: [String], blockSeconds: TimeInterval) async throws -> RedisValue {
        try await run { connection throws(RedisError) in
            connection.setTimeout(self.timeout + blockSeconds)
            defer { connection.setTimeout(self.timeout) }
            return [try connection.command(args)]
        }[0]
    }

    /// Sends all commands in one round trip and returns their replies in order.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        if commands.isEmpty { return [] }
        return try await run { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    /// Runs `body` with this client's connection, on its queue (for helpers of this module).
    func withConnection(_ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> [RedisValue]) async throws -> [RedisValue] {
        try await run(body)
    }

    /// Drops the connection; the next command reconnects.
    public func disconnect() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.connection = nil
                continuation.resume()
            }
        }
    }

    private func run(_ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> [RedisValue]) async throws -> [RedisValue] {
        let result: Result<[RedisValue], RedisError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.onQueue(body))
            }
        }
        return try result.get()
    }

    private func onQueue(_ body: (RedisConnection) throws(RedisError) -> [RedisValue]) -> Result<[RedisValue], RedisError> {
        do {
            let connection: RedisConnection
            if let existing = self.connection {
                connection = existing
            } else {
                connection = try RedisConnection(endpoint: endpoint, timeout: timeout)
                self.connection = connection
            }
            return .success(try body(connection))
        } catch {
            if error.kind == .connection { self.connection = nil }
            return .failure(error)
        }
    }
}
