import CSQLiteCrypt
public import Domain
public import Foundation
import GRDB

// Wipe bookkeeping, deletion receipts and space reclaim, added for the janitor (issue 6).
// Additive only: the control store gains the tables of migration "2026-11-30-privacy-records".

/// A wipe that has started but not finished: what the janitor needs to finish it after a crash.
///
/// Recorded before the key is destroyed, so the fingerprint of the destroyed key survives the key.
public struct WipeIntent: Sendable, Equatable, Codable {
    public var sellerID: SellerID
    public var startedAt: Date
    /// `revocation` or `deletion-request`.
    public var trigger: String
    /// The operator's reason (a ticket reference); never seller data.
    public var reason: String
    /// Fingerprint of the seller's data key, nil when the seller never had one.
    public var keyFingerprint: String?
    /// What is about to be destroyed, one item per line (file names and sizes, registry fields).
    public var inventory: [String]

    public init(sellerID: SellerID, startedAt: Date, trigger: String, reason: String, keyFingerprint: String?, inventory: [String]) {
        self.sellerID = sellerID
        self.startedAt = startedAt
        self.trigger = trigger
        self.reason = reason
        self.keyFingerprint = keyFingerprint
        self.inventory = inventory
    }
}

/// The proof of deletion sent to a seller: who, what was destroyed, when, and the key's fingerprint.
///
/// Holds no seller data: ids, file names, sizes and counts only.
public struct DeletionReceipt: Sendable, Equatable, Codable {
    public var receiptID: String
    public var sellerID: SellerID
    public var trigger: String
    public var reason: String
    /// When the wipe started (the request was acted on).
    public var startedAt: Date
    /// When the last trace was gone and the registry entry reduced.
    public var completedAt: Date
    public var keyFingerprint: String?
    public var destroyed: [String]

    public init(receiptID: String, sellerID: SellerID, trigger: String, reason: String, startedAt: Date, completedAt: Date,
                keyFingerprint: String?, destroyed: [String]) {
        self.receiptID = receiptID
        self.sellerID = sellerID
        self.trigger = trigger
        self.reason = reason
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.keyFingerprint = keyFingerprint
        self.destroyed = destroyed
    }
}

/// What the registry keeps of a wiped seller: its id, status `wiped` and the wipe time.
public struct WipedSeller: Sendable, Equatable, Codable {
    public var sellerID: SellerID
    public var status: String
    public var wipedAt: Date
}

extension ControlStore {
    static func registerPrivacyRecords(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("2026-11-30-privacy-records") { db in
            try db.execute(sql: """
                CREATE TABLE wipe_intent (
                    sellerID TEXT PRIMARY KEY NOT NULL,
                    startedAt TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    keyFingerprint TEXT,
                    inventory TEXT NOT NULL
                );
                CREATE TABLE wiped_seller (
                    sellerID TEXT PRIMARY KEY NOT NULL,
                    status TEXT NOT NULL,
                    wipedAt TEXT NOT NULL
                );
                CREATE TABLE deletion_receipt (
                    receiptID TEXT PRIMARY KEY NOT NULL,
                    sellerID TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    startedAt TEXT NOT NULL,
                    completedAt TEXT NOT NULL,
                    keyFingerprint TEXT,
                    destroyed TEXT NOT NULL
                );
                CREATE INDEX deletion_receipt_seller ON deletion_receipt(sellerID, completedAt);
                """)
        }
    }

    /// Records that a wipe starts, or returns the intent an earlier (crashed) attempt recorded.
    public func beginWipe(_ intent: WipeIntent) async throws -> WipeIntent {
        try await privacyWrite("cannot record wipe of seller \(intent.sellerID)") { db in
            if let existing = try Self.fetchIntent(db, intent.sellerID) { return existing }
            try db.execute(sql: """
                INSERT INTO wipe_intent (sellerID, startedAt, trigger, reason, keyFingerprint, inventory)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [intent.sellerID.rawValue, Self.iso(intent.startedAt), intent.trigger, intent.reason,
                                 intent.keyFingerprint, Self.jsonText(intent.inventory)])
            return intent
        }
    }

    /// The unfinished wipe of a seller, if one was started.
    public func wipeIntent(for id: SellerID) async throws -> WipeIntent? {
        try await privacyRead("cannot read wipe of seller \(id)") { db in try Self.fetchIntent(db, id) }
    }

    /// Every unfinished wipe (a janitor died mid-wipe and has not retried yet).
    public func unfinishedWipes() async throws -> [WipeIntent] {
        try await privacyRead("cannot list unfinished wipes") { db in
            try String.fetchAll(db, sql: "SELECT sellerID FROM wipe_intent ORDER BY startedAt").compactMap { raw in
                try SellerID(rawValue: raw).flatMap { try Self.fetchIntent(db, $0) }
            }
        }
    }

    /// Finishes a wipe in one transaction: the registry entry (tokens, marketplaces, settings,
    /// guardrails) is reduced to id, status `wiped` and wipe time, the receipt is stored, the
    /// intent removed and the audit log told.
    ///
    /// The seller's earlier audit lines keep their operation and time (registered, revoked, …) but
    /// lose their detail text, which may name marketplaces: after a wipe the control store holds
    /// only ids, statuses, times and the receipt.
    public func completeWipe(_ receipt: DeletionReceipt) async throws {
        try await privacyWrite("cannot complete wipe of seller \(receipt.sellerID)") { db in
            let id = receipt.sellerID.rawValue
            try db.execute(sql: "DELETE FROM price_guardrail WHERE sellerID = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM seller WHERE sellerID = ?", arguments: [id])
            try db.execute(sql: "INSERT OR REPLACE INTO wiped_seller (sellerID, status, wipedAt) VALUES (?, 'wiped', ?)",
                           arguments: [id, Self.iso(receipt.completedAt)])
            try db.execute(sql: """
                INSERT OR REPLACE INTO deletion_receipt
                    (receiptID, sellerID, trigger, reason, startedAt, completedAt, keyFingerprint, destroyed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [receipt.receiptID, id, receipt.trigger, receipt.reason, Self.iso(receipt.startedAt),
                                 Self.iso(receipt.completedAt), receipt.keyFingerprint, Self.jsonText(receipt.destroyed)])
            try db.execute(sql: "DELETE FROM wipe_intent WHERE sellerID = ?", arguments: [id])
            try db.execute(sql: "UPDATE privacy_audit SET detail = '' WHERE sellerID = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO privacy_audit (at, sellerID, operation, detail) VALUES (?, ?, ?, ?)",
                           arguments: [Self.iso(receipt.completedAt), id, PrivacyOperation.wipe.rawValue,
                                       "crypto-shred complete (\(receipt.trigger)), receipt \(receipt.receiptID)"])
        }
    }

    /// The reduced registry entry of a wiped seller, or nil when the seller was not wiped.
    public func wipedSeller(_ id: SellerID) async throws -> WipedSeller? {
        try await privacyRead("cannot read seller \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM wiped_seller WHERE sellerID = ?", arguments: [id.rawValue]).flatMap(Self.wiped)
        }
    }

    /// Every wiped seller, by id.
    public func wipedSellers() async throws -> [WipedSeller] {
        try await privacyRead("cannot list wiped sellers") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM wiped_seller ORDER BY sellerID").compactMap(Self.wiped)
        }
    }

    /// A seller's deletion receipts, newest first.
    public func deletionReceipts(for id: SellerID) async throws -> [DeletionReceipt] {
        try await privacyRead("cannot read receipts of seller \(id)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deletion_receipt WHERE sellerID = ? ORDER BY completedAt DESC",
                             arguments: [id.rawValue]).compactMap(Self.receipt)
        }
    }

    /// One receipt by its id.
    public func deletionReceipt(id: String) async throws -> DeletionReceipt? {
        try await privacyRead("cannot read receipt \(id.prefix(80))") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM deletion_receipt WHERE receiptID = ?", arguments: [id]).flatMap(Self.receipt)
        }
    }

    // MARK: - Plumbing

    private func privacyRead<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch {
            throw EncryptedDatabase.storeError(error, subject: .control, operation: operation, path: path)
        }
    }

    private func privacyWrite<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch {
            throw EncryptedDatabase.storeError(error, subject: .control, operation: operation, path: path)
        }
    }

    private static func jsonText(_ lines: [String]) -> String {
        // Encoding an array of strings cannot fail.
        String(decoding: try! JSONEncoder().encode(lines), as: UTF8.self)
    }

    private static func lines(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    private static func fetchIntent(_ db: Database, _ id: SellerID) throws -> WipeIntent? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM wipe_intent WHERE sellerID = ?", arguments: [id.rawValue]) else { return nil }
        return WipeIntent(sellerID: id, startedAt: date(row["startedAt"]) ?? Date(timeIntervalSince1970: 0), trigger: row["trigger"],
                          reason: row["reason"], keyFingerprint: row["keyFingerprint"], inventory: lines(row["inventory"]))
    }

    private static func wiped(_ row: Row) -> WipedSeller? {
        guard let id = SellerID(rawValue: row["sellerID"]) else { return nil }
        return WipedSeller(sellerID: id, status: row["status"], wipedAt: date(row["wipedAt"]) ?? Date(timeIntervalSince1970: 0))
    }

    private static func receipt(_ row: Row) -> DeletionReceipt? {
        guard let id = SellerID(rawValue: row["sellerID"]) else { return nil }
        return DeletionReceipt(receiptID: row["receiptID"], sellerID: id, trigger: row["trigger"], reason: row["reason"],
                               startedAt: date(row["startedAt"]) ?? Date(timeIntervalSince1970: 0),
                               completedAt: date(row["completedAt"]) ?? Date(timeIntervalSince1970: 0),
                               keyFingerprint: row["keyFingerprint"], destroyed: lines(row["destroyed"]))
    }
}

/// A file of a seller's store as found on disk.
public struct StoreFile: Sendable, Equatable {
    public var path: String
    public var bytes: Int64
}

extension SellerStorage {
    /// Short public fingerprint of a seller's data key (first 8 bytes of a labelled SHA-256), nil when it has none.
    ///
    /// Safe to print and to hand to the seller: it identifies the key without revealing it.
    public func keyFingerprint(of id: SellerID) async throws -> String? {
        let keys = self.keys
        return try await offPool { () throws -> String? in
            guard let key = try keys.load(.seller(id.rawValue)) else { return nil }
            var digest = [UInt8](repeating: 0, count: 32)
            let labelled = Array("optmazon-data-key-fingerprint-v1".utf8) + key.bytes
            guard sqlcrypt_sha256(labelled, labelled.count, &digest) == 0 else {
                throw SellerStoreError(.io, subject: "seller \(id)", operation: "cannot fingerprint key", reason: "OpenSSL failure")
            }
            return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Whether the seller's wrapped data key file exists (checked off the cooperative pool).
    public func hasKey(_ id: SellerID) async throws -> Bool {
        let path = keys.path(for: .seller(id.rawValue))
        return try await offPool { FileSystem.exists(path) }
    }

    /// The seller's database files (main, WAL, SHM, journal) that exist, with their sizes (checked off the cooperative pool).
    public func storeFiles(of id: SellerID) async throws -> [StoreFile] {
        let base = databasePath(for: id)
        return try await offPool {
            [base, base + "-wal", base + "-shm", base + "-journal"].compactMap { path in
                var st = stat()
                guard stat(path, &st) == 0 else { return nil }
                return StoreFile(path: path, bytes: Int64(st.st_size))
            }
        }
    }

    /// Whether anything of the seller is on disk: its key or any of its database files.
    public func holdsFiles(of id: SellerID) async throws -> Bool {
        if try await hasKey(id) { return true }
        return try await !storeFiles(of: id).isEmpty
    }
}

extension SellerStore {
    /// Rebuilds the database without its free pages (VACUUM) and truncates the WAL, so deleted
    /// rows no longer take disk space; returns the bytes the main file shrank by.
    public func reclaimSpace() async throws -> Int64 {
        let path = self.path
        @Sendable func size() -> Int64 {
            var st = stat()
            return stat(path, &st) == 0 ? Int64(st.st_size) : 0
        }
        let before = try await offPool { size() }
        do {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                // Best effort: a reader in another process may keep the WAL from being truncated now.
                _ = try? db.checkpoint(.truncate)
            }
        } catch {
            throw EncryptedDatabase.storeError(error, subject: subject, operation: "cannot reclaim space", path: path)
        }
        return try await before - offPool { size() }
    }
}
