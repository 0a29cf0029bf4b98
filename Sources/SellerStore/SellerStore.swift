public import Domain
import Foundation
import GRDB

/// An open encrypted store bound to exactly one seller: every method reads or writes that seller only.
///
/// Obtain one from `SellerStorage.openSeller(_:)` or, in workers, `SellerStoreCache.withStore(_:_:)`.
/// All methods run their SQLite work on GRDB's own dispatch queues, never on the cooperative pool.
public struct SellerStore: Sendable {
    /// The one seller this store reads and writes.
    public let sellerID: SellerID
    /// Absolute path of the encrypted database file.
    public let path: String
    let database: DatabasePool
    let keyRegistration: KeyRegistration?
    /// Shared by every copy of this value, so closing one copy closes them all.
    let closeGuard = CloseGuard()

    /// The open connections; a closed store answers with an error instead of touching freed SQLite handles.
    var pool: DatabasePool {
        get throws {
            guard !closeGuard.isClosed else {
                throw SellerStoreError(.database, subject: subject.label, operation: "cannot use", path: path, reason: "the store was closed")
            }
            return database
        }
    }

    var subject: StoreSubject { .seller(sellerID.rawValue) }

    // MARK: - Rows

    /// Saves rows in one transaction, replacing rows with the same primary key (idempotent re-fetch).
    public func save<Row: SellerTableRow>(_ rows: [Row]) async throws {
        try await write("cannot write") { db in
            for row in rows { try StoredRow(row).insert(db) }
        }
    }

    /// Rows of one table whose capture day lies in `from...through` (either bound optional), oldest first.
    public func rows<Row: SellerTableRow>(_ type: Row.Type, from: Day? = nil, through: Day? = nil) async throws -> [Row] {
        let table = Row.sellerTable
        return try await read("cannot read") { db in
            var request = StoredRow<Row>.all()
            if let from { request = request.filter(Column(table.captureColumn) >= from.rawValue) }
            if let through { request = request.filter(Column(table.captureColumn) <= through.rawValue) }
            return try request.order(Column(table.captureColumn)).fetchAll(db).map(\.value)
        }
    }

    /// Number of rows in one table.
    public func count<Row: SellerTableRow>(_ type: Row.Type) async throws -> Int {
        try await read("cannot read") { db in try StoredRow<Row>.fetchCount(db) }
    }

    /// Every SKU the seller's stored listings name (any day in the retention window).
    ///
    /// Settings that refer to a SKU (price guardrails) are checked against it.
    public func listedSKUs() async throws -> Set<String> {
        try await read("cannot read listings") { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT sku FROM \(ListingSnapshot.sellerTable.name)"))
        }
    }

    // MARK: - Alerts outbox

    /// Alerts waiting for delivery (pending or failed), oldest first.
    public func undeliveredAlerts(limit: Int = 100) async throws -> [Alert] {
        try await read("cannot read alerts") { db in
            try StoredRow<Alert>
                .filter([Alert.DeliveryState.pending.rawValue, Alert.DeliveryState.failed.rawValue].contains(Column("state")))
                .order(Column("day"), Column("id"))
                .limit(limit)
                .fetchAll(db).map(\.value)
        }
    }

    /// The delivery log of one digest (every attempt on every channel), oldest first.
    public func deliveries(ofDigest digestID: String) async throws -> [AlertDelivery] {
        try await read("cannot read the delivery log") { db in
            try StoredRow<AlertDelivery>.filter(Column("digestID") == digestID).order(Column("attemptedAt")).fetchAll(db).map(\.value)
        }
    }

    /// Records a delivery attempt's outcome for one alert.
    public func markAlert(id: String, state: Alert.DeliveryState, lastError: String = "") async throws {
        try await write("cannot update alert") { db in
            try db.execute(sql: "UPDATE alert SET state = ?, attempts = attempts + 1, lastError = ? WHERE id = ?",
                           arguments: [state.rawValue, lastError, id])
        }
    }

    // MARK: - Retention and export

    /// Deletes every row captured before `cutoff` (one indexed DELETE per table, one transaction).
    public func purge(olderThan cutoff: Day) async throws -> PurgeReport {
        try await write("cannot purge") { db in
            var deleted: [String: Int] = [:]
            for table in SellerTable.all {
                try db.execute(sql: "DELETE FROM \(table.name) WHERE \(table.captureColumn) < ?", arguments: [cutoff.rawValue])
                deleted[table.name] = db.changesCount
            }
            return PurgeReport(cutoff: cutoff, deletedRows: deleted)
        }
    }

    /// Every table of the seller's database as rows of text (the seller's "copy of my data").
    public func exportAll() async throws -> SellerExport {
        try await read("cannot export") { db in
            var tables: [SellerExport.Table] = []
            for name in ["store_meta"] + SellerTable.all.map(\.name) {
                let columns = try db.columns(in: name).map(\.name)
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(name)").map { row in
                    columns.map { column -> String? in
                        let value: DatabaseValue = row[column]
                        switch value.storage {
                        case .null: return nil
                        case let .int64(v): return String(v)
                        case let .double(v): return String(v)
                        case let .string(v): return v
                        case let .blob(v): return v.base64EncodedString()
                        }
                    }
                }
                tables.append(.init(name: name, columns: columns, rows: rows))
            }
            return SellerExport(sellerID: sellerID, tables: tables)
        }
    }

    /// Runs SQLite's `quick_check` over every page (decrypting each); throws if anything is wrong.
    public func verifyIntegrity() async throws {
        let result = try await read("cannot verify") { db in
            try String.fetchAll(db, sql: "PRAGMA quick_check")
        }
        guard result == ["ok"] else {
            throw SellerStoreError(.tamperedOrCorrupt, subject: subject.label, operation: "integrity check failed", path: path,
                                   reason: result.prefix(3).joined(separator: "; "))
        }
    }

    /// Checkpoints the WAL into the encrypted database file and closes every connection.
    /// Closing again is a no-op.
    public func close() async {
        guard closeGuard.markClosed() else { return }
        let pool = database
        _ = try? await offPool { EncryptedDatabase.close(pool) }
    }

    // MARK: - Plumbing

    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw EncryptedDatabase.storeError(error, subject: subject, operation: operation, path: path)
        }
    }

    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw EncryptedDatabase.storeError(error, subject: subject, operation: operation, path: path)
        }
    }

    /// Test hook for crash tests: saves `rows` and calls `beforeCommit` inside the open transaction.
    @_spi(StoreTesting)
    public func save<Row: SellerTableRow>(_ rows: [Row], beforeCommit: @escaping @Sendable () -> Void) async throws {
        try await write("cannot write") { db in
            for row in rows { try StoredRow(row).insert(db) }
            beforeCommit()
        }
    }

    /// Checks (or, for a new file, records) which seller the file belongs to.
    static func bindIdentity(_ pool: DatabasePool, seller: SellerID, path: String) throws(SellerStoreError) {
        let subject = StoreSubject.seller(seller.rawValue)
        let stored: String?
        do {
            stored = try pool.write { db -> String? in
                try db.execute(sql: "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('seller_id', ?)", arguments: [seller.rawValue])
                try db.execute(sql: "INSERT OR IGNORE INTO store_meta(key, value) VALUES ('format', 'optmazon-seller-v1')")
                return try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'seller_id'")
            }
        } catch {
            throw EncryptedDatabase.storeError(error, subject: subject, operation: "cannot open", path: path)
        }
        guard stored == seller.rawValue else {
            throw SellerStoreError(.wrongKeyOrForeignFile, subject: subject.label, operation: "cannot open", path: path,
                                   reason: "the file belongs to another seller")
        }
    }
}

/// Rows deleted by `SellerStore.purge(olderThan:)`, per table.
public struct PurgeReport: Sendable, Equatable {
    public var cutoff: Day
    public var deletedRows: [String: Int]
    public var total: Int { deletedRows.values.reduce(0, +) }
}

/// A full copy of one seller's data, table by table, values as text (blobs as base64, NULL as nil).
public struct SellerExport: Sendable {
    public struct Table: Sendable {
        public var name: String
        public var columns: [String]
        public var rows: [[String?]]
    }

    public var sellerID: SellerID
    public var tables: [Table]
}
