public import Domain

/// A bounded LRU cache of open seller stores, so a worker touching 10,000 sellers keeps its
/// memory and file descriptors flat.
///
/// Stores in use (inside `withStore`) are never evicted; when all cached stores are in use the
/// cache may exceed its capacity until they are returned. `wipe` closes a store even while in use
/// (operations still running on it then fail).
public actor SellerStoreCache {
    private enum Entry {
        case opening([CheckedContinuation<SellerStore, any Error>])
        case open(SellerStore, inUse: Int, lastUse: UInt64)
    }

    public let storage: SellerStorage
    public let capacity: Int
    private var entries: [SellerID: Entry] = [:]
    private var clock: UInt64 = 0

    public init(storage: SellerStorage, capacity: Int = 32) {
        self.storage = storage
        self.capacity = max(1, capacity)
    }

    /// Number of open stores (for tests and metrics).
    public var openCount: Int {
        entries.values.filter { if case .open = $0 { return true } else { return false } }.count
    }

    /// Runs `body` with the seller's store, opening (and creating) it if needed.
    public nonisolated func withStore<T: Sendable>(_ id: SellerID, _ body: @Sendable (SellerStore) async throws -> T) async throws -> T {
        let store = try await checkOut(id)
        do {
            let result = try await body(store)
            await checkIn(id)
            return result
        } catch {
            await checkIn(id)
            throw error
        }
    }

    /// Closes the seller's cached store, then crypto-shreds the seller (see `SellerStorage.wipeSeller`).
    public func wipe(_ id: SellerID, auditIn control: ControlStore? = nil) async throws {
        if case let .open(store, _, _) = entries[id] {
            entries[id] = nil
            await store.close()
        }
        try await storage.wipeSeller(id, auditIn: control)
    }

    /// Closes every idle store.
    public func closeAll() async {
        for (id, entry) in entries {
            if case let .open(store, inUse, _) = entry, inUse == 0 {
                entries[id] = nil
                await store.close()
            }
        }
    }

    private func checkOut(_ id: SellerID) async throws -> SellerStore {
        clock += 1
        switch entries[id] {
        case let .open(store, inUse, _):
            entries[id] = .open(store, inUse: inUse + 1, lastUse: clock)
            return store
        case .opening:
            return try await withCheckedThrowingContinuation { continuation in
                guard case let .opening(waiters) = entries[id] else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                entries[id] = .opening(waiters + [continuation])
            }
        case nil:
            entries[id] = .opening([])
            do {
                let store = try await storage.openSeller(id)
                clock += 1
                guard case let .opening(waiters) = entries[id] else { preconditionFailure("entry changed while opening") }
                entries[id] = .open(store, inUse: 1 + waiters.count, lastUse: clock)
                for waiter in waiters { waiter.resume(returning: store) }
                await evictIfNeeded()
                return store
            } catch {
                if case let .opening(waiters) = entries[id] {
                    for waiter in waiters { waiter.resume(throwing: error) }
                }
                entries[id] = nil
                throw error
            }
        }
    }

    private func checkIn(_ id: SellerID) async {
        guard case let .open(store, inUse, lastUse) = entries[id] else { return }
        entries[id] = .open(store, inUse: max(0, inUse - 1), lastUse: lastUse)
        await evictIfNeeded()
    }

    private func evictIfNeeded() async {
        while openCount > capacity {
            let idle = entries.compactMap { id, entry -> (SellerID, SellerStore, UInt64)? in
                if case let .open(store, 0, lastUse) = entry { return (id, store, lastUse) }
                return nil
            }
            guard let victim = idle.min(by: { $0.2 < $1.2 }) else { return }
            entries[victim.0] = nil
            await victim.1.close()
        }
    }
}
