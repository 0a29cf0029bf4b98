public import Domain

/// A privacy operation that failed, naming the seller, the operation and why, as one line.
public struct PrivacyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let seller: SellerID?
    /// `wipe`, `export`, `retention`, `revoke`...
    public let operation: String
    public let reason: String

    public init(seller: SellerID?, operation: String, reason: String) {
        self.seller = seller
        self.operation = operation
        self.reason = reason
    }

    public var description: String {
        let who = seller.map { "seller \($0): " } ?? ""
        return "\(who)\(operation): \(reason)".replacingOccurrences(of: "\n", with: " ")
    }
}
