import Crypto

/// A Lua script, sent with its source once per connection and by its SHA1 (EVALSHA) after that.
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

    /// The EVAL command, sent the first time a connection runs the script (or after a NOSCRIPT reply).
    public func evalCommand(keys: [String], args: [String]) -> [String] {
        ["EVAL", source, String(keys.count)] + keys + args
    }
}

extension RedisClient {
    /// Runs a script (see ``pipeline(calls:)`` for when it is sent as EVAL or EVALSHA).
    public func eval(_ script: RedisScript, keys: [String], args: [String]) async throws -> RedisValue {
        try await pipeline(calls: [.script(script, keys: keys, args: args)])[0]
    }

    /// Runs many script calls in one round trip, in order.
    public func evalPipeline(_ calls: [(RedisScript, [String], [String])]) async throws -> [RedisValue] {
        try await pipeline(calls: calls.map { .script($0.0, keys: $0.1, args: $0.2) })
    }
}

/// One entry of a mixed pipeline: a plain command, or a script call.
public enum RedisCall: Sendable {
    case command([String])
    case script(RedisScript, keys: [String], args: [String])
}

extension RedisClient {
    /// Sends plain commands and script calls in one round trip; replies come back in order.
    ///
    /// A script goes as EVAL (with its source) the first time on a connection and as EVALSHA
    /// afterwards, so a server that lost its script cache (restart, failover: always a new
    /// connection) runs every call in pipeline order. Only a cache flushed under a live connection
    /// (`SCRIPT FLUSH`) makes a call answer NOSCRIPT; it is then re-run with EVAL, after the rest.
    public func pipeline(calls: [RedisCall]) async throws -> [RedisValue] {
        if calls.isEmpty { return [] }
        return try await withConnection { connection throws(RedisError) in
            var replies = try connection.pipeline(calls.map { call in
                switch call {
                case let .command(args): args
                case let .script(script, keys, args):
                    connection.knownScripts.contains(script.sha1) ? script.command(keys: keys, args: args) : script.evalCommand(keys: keys, args: args)
                }
            })
            var missing: [(slot: Int, command: [String])] = []
            for (slot, call) in calls.enumerated() {
                guard case let .script(script, keys, args) = call else { continue }
                if replies[slot].errorMessage?.hasPrefix("NOSCRIPT") == true {
                    missing.append((slot, script.evalCommand(keys: keys, args: args)))
                } else if replies[slot].errorMessage == nil {
                    connection.knownScripts.insert(script.sha1)
                }
            }
            if !missing.isEmpty {
                let retried = try connection.pipeline(missing.map(\.command))
                for (item, reply) in zip(missing, retried) { replies[item.slot] = reply }
            }
            return replies
        }
    }
}
