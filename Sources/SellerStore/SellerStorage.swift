public import Domain
import Foundation
import GRDB

/// Entry point of the encrypted store: the data and key directories plus the master key.
///
/// Creating one checks the setup (owner-only key directory, master key known to the key
/// directory) so a misconfigured process stops at start with a one-line error.
public struct SellerStorage: Sendable {
    /// Data and key directories and the master key in use.
    public let locations: StoreLocations
    /// Connection settings for stores opened from here.
    public var tuning: StoreTuning
    let keys: KeyStore

    /// Validates the directories (creating them 0700 if missing) and the master key.
    public init(_ locations: StoreLocations, tuning: StoreTuning = StoreTuning()) throws(SellerStoreError) {
        self.locations = locations
        self.tuning = tuning
        try FileSystem.ensurePrivateDirectory(locations.dataDirectory, subject: nil, refuseLoose: false)
        keys = try KeyStore(directory: locations.keyDirectory, master: locations.masterKey)
    }

    /// Reads the locations from the environment (see `StoreLocations.fromEnvironment`) and validates them.
    public static func fromEnvironment(tuning: StoreTuning = StoreTuning()) throws(SellerStoreError) -> SellerStorage {
        try SellerStorage(StoreLocations.fromEnvironment(), tuning: tuning)
    }

    /// Path of a seller's encrypted database file.
    public func databasePath(for id: SellerID) -> String { "\(locations.dataDirectory)/seller-\(id.rawValue).sqlite" }

    var controlPath: String { "\(locations.dataDirectory)/control.sqlite" }

    /// Opens a seller's store, creating its key and database on first use (`create`), migrating it.
    public func openSeller(_ id: SellerID, create: Bool = true) async throws -> SellerStore {
        try await openSeller(id, create: create, migrateUpTo: nil)
    }

    func openSeller(_ id: SellerID, create: Bool, migrateUpTo: String?) async throws -> SellerStore {
        let keys = self.keys, tuning = self.tuning, path = databasePath(for: id)
        return try await offPool { () throws -> SellerStore in
            let subject = StoreSubject.seller(id.rawValue)
            if !create && !FileSystem.exists(path) {
                throw SellerStoreError(.keyNotFound, subject: subject.label, operation: "cannot open", path: path, reason: "no such store")
            }
            let key = try keys.loadOrCreate(subject, create: create)
            let (pool, registration) = try EncryptedDatabase.open(
                path: path, key: key, subject: subject, tuning: tuning,
                migrator: SellerMigrations.migrator, migrateUpTo: migrateUpTo)
            do {
                try SellerStore.bindIdentity(pool, seller: id, path: path)
            } catch {
                EncryptedDatabase.close(pool)
                throw error
            }
            return SellerStore(sellerID: id, path: path, database: pool, keyRegistration: registration)
        }
    }

    /// Opens the control store (seller registry and audit log), creating it on first use.
    public func openControlStore() async throws -> ControlStore {
        let keys = self.keys, tuning = self.tuning, path = controlPath
        return try await offPool { () throws -> ControlStore in
            let key = try keys.loadOrCreate(.control, create: true)
            let (pool, registration) = try EncryptedDatabase.open(
                path: path, key: key, subject: .control, tuning: tuning,
                migrator: ControlStore.migrator, migrateUpTo: nil)
            return ControlStore(path: path, database: pool, keyRegistration: registration)
        }
    }

    /// Crypto-shreds a seller: destroys its key (durably) first, then deletes its database, WAL and SHM.
    ///
    /// Close the seller's handles first (`SellerStoreCache.wipe` does). Afterwards no file of
    /// the seller remains, and any copy of its files taken earlier can no longer be decrypted.
    /// Records the wipe in `control`'s audit log when given.
    public func wipeSeller(_ id: SellerID, auditIn control: ControlStore? = nil) async throws {
        let keys = self.keys, path = databasePath(for: id), directory = locations.dataDirectory
        try await offPool {
            let label = StoreSubject.seller(id.rawValue).label
            try keys.destroy(.seller(id.rawValue))
            for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
                try FileSystem.remove(file, subject: label)
            }
            try FileSystem.fsyncDirectory(directory, subject: label)
        }
        try await control?.recordAudit(id, .wipe, detail: "key destroyed, database files deleted")
    }

    /// Re-wraps every data key (sellers and control store) with `newKey`, crash-safely; no database is rewritten.
    ///
    /// After it returns, restart every process with the new master key.
    public func rotateMaster(to newKey: MasterKey) async throws -> RotationReport {
        try await rotateMaster(to: newKey, failpoint: { _ in })
    }

    func rotateMaster(to newKey: MasterKey, failpoint: @escaping @Sendable (RotationStep) throws -> Void) async throws -> RotationReport {
        let keys = self.keys
        return try await offPool { try keys.rotate(to: newKey, failpoint: failpoint) }
    }

    /// Sellers that have a data key in the key directory.
    public func sellersWithKeys() throws -> [SellerID] {
        try keys.storedSubjects().compactMap { subject in
            if case let .seller(raw) = subject { return SellerID(rawValue: raw) }
            return nil
        }
    }
}
