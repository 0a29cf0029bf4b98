/// A selling partner's id (`selling_partner_id`), validated so it is safe in file names and Redis keys.
///
/// Seller ids name the seller's encrypted file and key, so a malformed id (a path separator,
/// `..`, an empty string) is refused at the boundary instead of being trusted downstream.
public struct SellerID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts 1–64 ASCII letters, digits, `-` and `_` (Amazon ids are upper-case alphanumerics).
    public init?(rawValue: String) {
        guard (1...64).contains(rawValue.utf8.count),
              rawValue.utf8.allSatisfy({ SellerID.allowed($0) }) else { return nil }
        self.rawValue = rawValue
    }

    /// Parses an id or throws a one-line error naming the bad value's problem.
    public init(validating raw: String) throws(DomainError) {
        guard let id = SellerID(rawValue: raw) else {
            throw DomainError.invalidValue(field: "seller id", reason: "'\(raw.prefix(80))' must be 1-64 letters, digits, '-' or '_'")
        }
        self = id
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = SellerID(rawValue: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid seller id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: SellerID, rhs: SellerID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

/// An invalid value met at a boundary (CLI flag, config, API answer), rendered as one line.
public enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidValue(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidValue(field, reason): return "invalid \(field): \(reason)"
        }
    }
}
