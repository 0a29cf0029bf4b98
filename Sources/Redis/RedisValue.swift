/// A decoded Redis reply.
public enum RedisValue: Sendable, Equatable {
    case null
    case integer(Int)
    case bulk([UInt8])
    case status(String)
    case error(String)
    case array([RedisValue])

    /// The reply as text (bulk or status), nil otherwise.
    public var string: String? {
        switch self {
        case let .bulk(bytes): return String(decoding: bytes, as: UTF8.self)
        case let .status(s): return s
        default: return nil
        }
    }

    /// The reply as an integer (integer, or a bulk/status holding digits).
    public var int: Int? {
        switch self {
        case let .integer(i): return i
        case .bulk, .status: return string.flatMap { Int($0) }
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The error text when Redis answered with an error.
    public var errorMessage: String? {
        if case let .error(e) = self { return e }
        return nil
    }
}

/// A Redis failure, rendered as one line naming the operation.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made or broke; retrying after a pause may succeed.
        case connection
        /// Redis answered with an error reply (wrong type, NOSCRIPT, auth, …).
        case reply
        /// The URL or arguments were invalid.
        case usage
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "redis: \(message)" }
}
