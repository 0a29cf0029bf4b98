public import SellerStore

/// Where the scheduler learns which sellers exist and their status.
public protocol SellerDirectory: Sendable {
    /// Every registered seller (wiped sellers are no longer registered).
    func schedulableSellers() async throws -> [ScheduledSeller]
}

/// The seller registry in the encrypted control store.
public struct ControlStoreDirectory: SellerDirectory {
    public let control: ControlStore

    public init(control: ControlStore) {
        self.control = control
    }

    public func schedulableSellers() async throws -> [ScheduledSeller] {
        try await control.sellers().map {
            ScheduledSeller(id: $0.sellerID, marketplaceIDs: $0.marketplaceIDs, status: $0.status, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
        }
    }
}
