import Crypto

/// A Lua script run with EVALSHA, falling back to EVAL when Redis lost its script cache (restart, failover).
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The EVALSHA command for these keys and arguments.
    public func command(keys: [String], args: [String]) -> [String] {
        ["EVALSHA", sha1, String(keys.count)] + keys + args
    }

    /// The EVAL command, used once after a NOSCRIPT reply.
    public func evalCommand(keys: [String], args: [String]) -> [String] {
        ["EVAL", source, String(keys.count)] + keys + args
    }
}

extension RedisClient {
    /// Runs a script: EVALSHA, and EVAL once if the server does not know the script.
    public func eval(_ script: RedisScript, keys: [String], args: [String]) async throws -> RedisValue {
        let reply = try await send(script.command(keys: keys, args: args))
        if let error = reply.errorMessage, error.hasPrefix("NOSCRIPT") {
            return try await send(script.evalCommand(keys: keys, args: args))
        }
        return reply
    }

    /// Runs many script calls in one round trip, re-running any that met NOSCRIPT.
    public func evalPipeline(_ calls: [(RedisScript, [String], [String])]) async throws -> [RedisValue] {
        var replies = try await pipeline(calls.map { $0.0.command(keys: $0.1, args: $0.2) })
        let missing = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        if !missing.isEmpty {
            let retried = try await pipeline(missing.map { calls[$0].0.evalCommand(keys: calls[$0].1, args: calls[$0].2) })
            for (slot, reply) in zip(missing, retried) { replies[slot] = reply }
        }
        return replies
    }
}
