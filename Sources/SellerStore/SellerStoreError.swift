import Foundation

/// An error of the encrypted store, carrying who, what and where, rendered as one log-safe line.
///
/// `description` reads like `seller A1B2: cannot open /data/seller-A1B2.sqlite: wrong key or not an
/// OptMazon store`. It never contains key material or refresh tokens.
public struct SellerStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it (tests, retry policies).
    public enum Code: String, Sendable, Equatable {
        /// A configuration value (environment variable) is missing or malformed.
        case configuration
        /// The master key is missing, malformed or unreadable.
        case masterKey
        /// A key directory, key file or master-key file is readable by other users.
        case insecurePermissions
        /// The file is not an OptMazon store for this key (wrong key, other seller, not encrypted).
        case wrongKeyOrForeignFile
        /// A page failed authentication or the file is truncated or corrupt.
        case tamperedOrCorrupt
        /// The seller has no data key (never created, or wiped).
        case keyNotFound
        /// A wrapped key file is malformed or failed authentication.
        case invalidKeyFile
        /// A wrapped key was made with another master key than the one configured.
        case masterKeyMismatch
        /// A file-system operation failed.
        case io
        /// SQLite or GRDB reported an error.
        case database
        /// A value given by the operator or the caller was refused.
        case invalidValue
        /// The seller is not in the registry.
        case sellerNotFound
        /// The seller is already in the registry.
        case sellerExists
    }

    public let code: Code
    /// `seller ID`, `control store`, or nil when no store is concerned.
    public let subject: String?
    /// What was being done: `cannot open`, `cannot read`, `cannot rotate key`...
    public let operation: String
    /// The file concerned, if any.
    public let path: String?
    /// Why, in a few words.
    public let reason: String

    init(_ code: Code, subject: String?, operation: String, path: String? = nil, reason: String) {
        self.code = code
        self.subject = subject
        self.operation = operation
        self.path = path
        self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let subject { parts.append(subject) }
        parts.append(path.map { "\(operation) \($0)" } ?? operation)
        parts.append(reason)
        return parts.joined(separator: ": ").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Whose file an operation concerns: one seller, or the control store (seller registry).
enum StoreSubject: Sendable, Equatable {
    case seller(String)
    case control

    var label: String {
        switch self {
        case let .seller(id): return "seller \(id)"
        case .control: return "control store"
        }
    }

    /// Base name of the store's database and key files (`seller-ID` or `control`).
    var fileStem: String {
        switch self {
        case let .seller(id): return "seller-\(id)"
        case .control: return "control"
        }
    }
}
