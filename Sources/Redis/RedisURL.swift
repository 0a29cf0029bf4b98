import Foundation

/// Where and how to reach Redis, parsed from a `redis://[user:password@]host[:port][/db]` URL.
///
/// Credentials for Redis AUTH/ACL come only from the URL so no other config key holds a secret.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a redis URL or throws an error naming what is wrong with it.
    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), components.scheme == "redis" else {
            throw RedisError(.usage, "invalid Redis URL (expected redis://[user:password@]host[:port][/db])")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError(.usage, "Redis URL has no host")
        }
        var database = 0
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw RedisError(.usage, "Redis URL database '\(path)' is not a number") }
            database = db
        }
        let port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw RedisError(.usage, "Redis URL port \(port) is out of range") }
        self.init(host: host, port: port,
                  username: components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
                  password: components.password?.removingPercentEncoding, database: database)
    }

    /// The endpoint without credentials, safe to log.
    public var description: String { "redis://\(host):\(port)/\(database)" }
}
