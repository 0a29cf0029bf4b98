public import Domain
public import Foundation
import GRDB

extension ControlStore {
    /// Replaces the SP-API refresh token of an already-registered, active seller (a re-authorization).
    ///
    /// Onboarding uses it when a seller runs the consent flow again (Amazon asks every 365 days);
    /// an unknown or revoked seller is refused and nothing is written.
    public func renewSPAuthorization(of id: SellerID, refreshToken: Secret, at now: Date = Date()) async throws {
        guard !refreshToken.reveal().isEmpty else {
            throw SellerStoreError(.invalidValue, subject: "seller \(id)", operation: "cannot renew authorization",
                                   reason: "the SP-API refresh token is empty")
        }
        try await updateAuthorization(id, operation: "cannot renew SP-API authorization", at: now,
                                      sql: "UPDATE seller SET spRefreshToken = ? WHERE sellerID = ?",
                                      arguments: [refreshToken.reveal(), id.rawValue], detail: "SP-API authorization renewed")
    }

    /// Connects (or replaces) the Ads API grant of an already-registered, active seller, with its profile id.
    ///
    /// The Ads consent is a separate OAuth grant given after the SP-API one, so the seller must
    /// exist; an unknown or revoked seller is refused and nothing is written.
    public func setAdsAuthorization(of id: SellerID, refreshToken: Secret, profileID: String, at now: Date = Date()) async throws {
        guard !refreshToken.reveal().isEmpty, !profileID.isEmpty else {
            throw SellerStoreError(.invalidValue, subject: "seller \(id)", operation: "cannot connect Ads API",
                                   reason: "the Ads refresh token and profile id must not be empty")
        }
        try await updateAuthorization(id, operation: "cannot connect Ads API", at: now,
                                      sql: "UPDATE seller SET adsRefreshToken = ?, adsProfileID = ? WHERE sellerID = ?",
                                      arguments: [refreshToken.reveal(), profileID, id.rawValue],
                                      detail: "Ads API authorization connected (profile \(profileID))")
    }

    private func updateAuthorization(_ id: SellerID, operation: String, at now: Date,
                                     sql: String, arguments: StatementArguments, detail: String) async throws {
        do {
            try await pool.write { db in
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM seller WHERE sellerID = ?", arguments: [id.rawValue]) else {
                    throw SellerStoreError(.sellerNotFound, subject: "seller \(id)", operation: operation,
                                           reason: "not registered (authorize SP-API first)")
                }
                guard status == SellerStatus.active.rawValue else {
                    throw SellerStoreError(.invalidValue, subject: "seller \(id)", operation: operation,
                                           reason: "the seller is \(status); a revoked seller is wiped, not re-authorized")
                }
                try db.execute(sql: sql, arguments: arguments)
                try db.execute(sql: "INSERT INTO privacy_audit (at, sellerID, operation, detail) VALUES (?, ?, ?, ?)",
                               arguments: [Self.iso(now), id.rawValue, PrivacyOperation.register.rawValue, detail])
            }
        } catch {
            throw EncryptedDatabase.storeError(error, subject: .control, operation: "\(operation) for seller \(id)", path: path)
        }
    }
}
