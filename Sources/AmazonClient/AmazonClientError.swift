import Domain

/// Why a call to Amazon failed, with the seller, operation and field involved; `description` is one line.
public enum AmazonClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// LWA answered `invalid_grant` to a refresh: the seller revoked the app (or never granted it).
    case authorizationRevoked(SellerID)
    /// LWA refused a token exchange for another reason (`error` code as LWA sent it).
    case tokenExchangeFailed(seller: SellerID?, code: String, status: Int)
    /// A call stayed 401/403 after one token refresh.
    case unauthorized(seller: SellerID, operation: String, status: Int)
    /// Still throttled (429) after the retry budget.
    case throttled(seller: SellerID, operation: String, attempts: Int)
    /// Still failing with 5xx or timeouts after the retry budget.
    case unavailable(seller: SellerID, operation: String, attempts: Int, lastError: String)
    /// Amazon refused the request (4xx other than 401/403/429), with Amazon's error code.
    case rejected(seller: SellerID, operation: String, status: Int, code: String)
    /// The response body could not be read as the model says (missing/mistyped field, truncated, not JSON).
    case malformed(operation: String, field: String, reason: String)
    /// The response or document was larger than the configured bound.
    case tooLarge(operation: String, limit: Int)
    /// A report ended FATAL (or an Ads report FAILED), or did not finish in time.
    case reportFailed(seller: SellerID, operation: String, reportID: String, status: String)
    /// The request could not be built (bad argument, batch too large).
    case invalidRequest(operation: String, reason: String)
    /// Configuration is missing or invalid.
    case configuration(String)
    /// The seller has no Ads profile for the marketplace, or no Ads authorization.
    case adsNotConnected(seller: SellerID, marketplace: String)
    /// No connection meeting the TLS policy (version below the minimum, untrusted certificate, plain
    /// HTTP beyond loopback); nothing was sent.
    case insecure(operation: String, reason: String)

    public var description: String {
        switch self {
        case let .authorizationRevoked(seller):
            "seller \(seller) revoked the authorization (LWA invalid_grant)"
        case let .tokenExchangeFailed(seller, code, status):
            "LWA token exchange failed for seller \(seller?.rawValue ?? "(onboarding)"): HTTP \(status) \(code)"
        case let .unauthorized(seller, operation, status):
            "\(operation) for seller \(seller) was refused with HTTP \(status) even after a token refresh"
        case let .throttled(seller, operation, attempts):
            "\(operation) for seller \(seller) still throttled (429) after \(attempts) attempts"
        case let .unavailable(seller, operation, attempts, lastError):
            "\(operation) for seller \(seller) failed after \(attempts) attempts: \(lastError)"
        case let .rejected(seller, operation, status, code):
            "\(operation) for seller \(seller) rejected with HTTP \(status) \(code)"
        case let .malformed(operation, field, reason):
            "\(operation) returned a malformed response at '\(field)': \(reason)"
        case let .tooLarge(operation, limit):
            "\(operation) response exceeds the \(limit)-byte limit"
        case let .reportFailed(seller, operation, reportID, status):
            "\(operation) report \(reportID) for seller \(seller) ended \(status)"
        case let .invalidRequest(operation, reason):
            "\(operation) request is invalid: \(reason)"
        case let .configuration(reason):
            "Amazon client configuration: \(reason)"
        case let .adsNotConnected(seller, marketplace):
            "seller \(seller) has no Ads API profile for marketplace \(marketplace)"
        case let .insecure(operation, reason):
            "\(operation) not sent, no connection meeting the TLS policy: \(reason)"
        }
    }
}
