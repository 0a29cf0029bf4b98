public import Domain
public import Foundation
import GRDB

/// A secret string (an LWA refresh token). `description` masks it; only `reveal()` returns it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The secret itself, for the one place that sends it to Amazon. Never log the result.
    public func reveal() -> String { value }

    /// Masked form: a known public prefix such as `Atzr|` at most, then the length.
    public var description: String {
        let prefix = value.hasPrefix("Atzr|") ? "Atzr|" : ""
        return "\(prefix)****** (\(value.count) chars)"
    }

    public var debugDescription: String { description }
    /// `dump()` and debuggers see the masked form only.
    public var customMirror: Mirror { Mirror(self, children: ["masked": description]) }
}

/// Whether OptMazon may still act for a seller.
public enum SellerStatus: String, Sendable, Codable, CaseIterable {
    case active, revoked
}

/// What an operator registers: a seller, its region and marketplaces, and its refresh tokens.
public struct SellerRegistration: Sendable {
    public var sellerID: SellerID
    public var region: Region
    public var marketplaceIDs: [String]
    public var spRefreshToken: Secret
    public var adsRefreshToken: Secret?
    public var adsProfileID: String?

    /// Validates marketplaces (known, in `region`, at least one) and the Ads token/profile pair.
    public init(sellerID: SellerID, region: Region, marketplaceIDs: [String], spRefreshToken: Secret,
                adsRefreshToken: Secret? = nil, adsProfileID: String? = nil) throws(SellerStoreError) {
        func refuse(_ reason: String) -> SellerStoreError {
            SellerStoreError(.invalidValue, subject: "seller \(sellerID)", operation: "cannot register", reason: reason)
        }
        guard !marketplaceIDs.isEmpty else { throw refuse("at least one --marketplace is required") }
        for id in marketplaceIDs {
            guard let marketplace = Marketplace.named(id) else { throw refuse("unknown marketplace id '\(id.prefix(40))'") }
            guard marketplace.region == region else {
                throw refuse("marketplace \(id) (\(marketplace.countryCode)) is in region \(marketplace.region.rawValue), not \(region.rawValue)")
            }
        }
        guard !spRefreshToken.reveal().isEmpty else { throw refuse("the SP-API refresh token is empty") }
        if let adsRefreshToken, adsRefreshToken.reveal().isEmpty { throw refuse("the Ads refresh token is empty") }
        guard (adsRefreshToken == nil) == (adsProfileID == nil) else {
            throw refuse("--ads-refresh-token-file and --ads-profile-id go together")
        }
        self.sellerID = sellerID
        self.region = region
        var unique: [String] = []
        for id in marketplaceIDs where !unique.contains(id) { unique.append(id) }
        self.marketplaceIDs = unique
        self.spRefreshToken = spRefreshToken
        self.adsRefreshToken = adsRefreshToken
        self.adsProfileID = adsProfileID
    }
}

/// A seller as the registry holds it.
public struct RegisteredSeller: Sendable, Equatable {
    public var sellerID: SellerID
    public var region: Region
    public var marketplaceIDs: [String]
    public var status: SellerStatus
    public var createdAt: Date
    public var revokedAt: Date?
    public var spRefreshToken: Secret
    public var adsRefreshToken: Secret?
    public var adsProfileID: String?
    public var settings: SellerSettings
}

/// Privacy-relevant operations recorded in the audit log.
public enum PrivacyOperation: String, Sendable, Codable, CaseIterable {
    case register, updateSettings = "update-settings", revoke, purge, export, wipe
}

/// One line of the privacy audit log.
public struct AuditEntry: Sendable, Equatable {
    public var at: Date
    public var sellerID: String
    public var operation: PrivacyOperation
    public var detail: String
}

/// The seller registry and privacy audit log, in their own encrypted database (`control.sqlite`).
///
/// It is the only store that lists several sellers; it holds no seller analytics data.
public struct ControlStore: Sendable {
    /// Absolute path of the encrypted registry database.
    public let path: String
    let database: DatabasePool
    let keyRegistration: KeyRegistration
    /// Shared by every copy of this value, so closing one copy closes them all.
    let closeGuard = CloseGuard()

    /// The open connections; a closed registry answers with an error instead of touching freed SQLite handles.
    var pool: DatabasePool {
        get throws {
            guard !closeGuard.isClosed else {
                throw SellerStoreError(.database, subject: StoreSubject.control.label, operation: "cannot use", path: path,
                                       reason: "the registry was closed")
            }
            return database
        }
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        // Never edit a shipped migration; append a new one.
        migrator.registerMigration("2026-11-29-registry") { db in
            try db.execute(sql: """
                CREATE TABLE seller (
                    sellerID TEXT PRIMARY KEY NOT NULL,
                    region TEXT NOT NULL,
                    marketplaces TEXT NOT NULL,
                    status TEXT NOT NULL,
                    createdAt TEXT NOT NULL,
                    revokedAt TEXT,
                    spRefreshToken TEXT NOT NULL,
                    adsRefreshToken TEXT,
                    adsProfileID TEXT,
                    targetACoS REAL NOT NULL,
                    minBid REAL NOT NULL,
                    maxBid REAL NOT NULL,
                    webhookURL TEXT,
                    slackWebhookURL TEXT
                );
                CREATE TABLE price_guardrail (
                    sellerID TEXT NOT NULL REFERENCES seller(sellerID) ON DELETE CASCADE,
                    sku TEXT NOT NULL,
                    floor REAL NOT NULL,
                    ceiling REAL NOT NULL,
                    PRIMARY KEY (sellerID, sku)
                );
                CREATE TABLE privacy_audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    sellerID TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX privacy_audit_seller ON privacy_audit(sellerID, at);
                """)
        }
        registerPrivacyRecords(in: &migrator)
        return migrator
    }()

    private var label: String { StoreSubject.control.label }

    /// Adds a seller (status active, default settings) and records it in the audit log.
    public func register(_ registration: SellerRegistration, at now: Date = Date()) async throws {
        let r = registration
        let defaults = SellerSettings()
        try await write("cannot register seller \(r.sellerID)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM seller WHERE sellerID = ?", arguments: [r.sellerID.rawValue]) == true {
                throw SellerStoreError(.sellerExists, subject: "seller \(r.sellerID)", operation: "cannot register",
                                       reason: "already registered (use `sellers set`)")
            }
            try db.execute(sql: """
                INSERT INTO seller (sellerID, region, marketplaces, status, createdAt, spRefreshToken,
                                    adsRefreshToken, adsProfileID, targetACoS, minBid, maxBid)
                VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.sellerID.rawValue, r.region.rawValue, r.marketplaceIDs.joined(separator: ","),
                                 Self.iso(now), r.spRefreshToken.reveal(), r.adsRefreshToken?.reveal(), r.adsProfileID,
                                 defaults.targetACoS, defaults.minBid, defaults.maxBid])
            try Self.audit(db, r.sellerID.rawValue, .register, "region \(r.region.rawValue), marketplaces \(r.marketplaceIDs.joined(separator: ","))", now)
        }
    }

    /// Every registered seller, by id.
    public func sellers() async throws -> [RegisteredSeller] {
        try await read("cannot list sellers") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM seller ORDER BY sellerID").map { try Self.seller(from: $0, db) }
        }
    }

    /// One seller; throws `.sellerNotFound` when it is not registered.
    public func seller(_ id: SellerID) async throws -> RegisteredSeller {
        try await read("cannot read seller \(id)") { db in try Self.fetchSeller(db, id) }
    }

    /// Changes a seller's settings in one transaction; `change` may throw to refuse a value.
    @discardableResult
    public func updateSettings(of id: SellerID, at now: Date = Date(),
                               _ change: @escaping @Sendable (inout SellerSettings) throws -> Void) async throws -> SellerSettings {
        try await write("cannot update seller \(id)") { db in
            var settings = try Self.fetchSeller(db, id).settings
            try change(&settings)
            guard settings.targetACoS > 0, settings.targetACoS <= 100 else {
                throw SellerStoreError(.invalidValue, subject: "seller \(id)", operation: "cannot set target ACoS",
                                       reason: "\(settings.targetACoS) must be a percentage above 0 and at most 100")
            }
            guard settings.minBid > 0, settings.maxBid.isFinite, settings.minBid <= settings.maxBid else {
                throw SellerStoreError(.invalidValue, subject: "seller \(id)", operation: "cannot set bid limits",
                                       reason: "minimum bid \(settings.minBid) must be positive and at most the maximum bid \(settings.maxBid)")
            }
            try db.execute(sql: """
                UPDATE seller SET targetACoS = ?, minBid = ?, maxBid = ?, webhookURL = ?, slackWebhookURL = ?
                WHERE sellerID = ?
                """, arguments: [settings.targetACoS, settings.minBid, settings.maxBid, settings.webhookURL,
                                 settings.slackWebhookURL, id.rawValue])
            try db.execute(sql: "DELETE FROM price_guardrail WHERE sellerID = ?", arguments: [id.rawValue])
            for guardrail in settings.guardrails.values.sorted(by: { $0.sku < $1.sku }) {
                try db.execute(sql: "INSERT INTO price_guardrail (sellerID, sku, floor, ceiling) VALUES (?, ?, ?, ?)",
                               arguments: [id.rawValue, guardrail.sku, guardrail.floor, guardrail.ceiling])
            }
            try Self.audit(db, id.rawValue, .updateSettings, "settings changed", now)
            return settings
        }
    }

    /// Marks a seller active or revoked (revocation time recorded).
    public func setStatus(of id: SellerID, to status: SellerStatus, at now: Date = Date()) async throws {
        try await write("cannot update seller \(id)") { db in
            _ = try Self.fetchSeller(db, id)
            try db.execute(sql: "UPDATE seller SET status = ?, revokedAt = ? WHERE sellerID = ?",
                           arguments: [status.rawValue, status == .revoked ? Self.iso(now) : nil, id.rawValue])
            if status == .revoked { try Self.audit(db, id.rawValue, .revoke, "access revoked", now) }
        }
    }

    /// Appends a line to the privacy audit log. `detail` must not contain secrets or seller data.
    public func recordAudit(_ id: SellerID, _ operation: PrivacyOperation, detail: String, at now: Date = Date()) async throws {
        try await write("cannot write audit log") { db in try Self.audit(db, id.rawValue, operation, detail, now) }
    }

    /// The audit log, oldest first, for one seller or all.
    public func auditLog(for id: SellerID? = nil) async throws -> [AuditEntry] {
        try await read("cannot read audit log") { db in
            let rows: [Row]
            if let id {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM privacy_audit WHERE sellerID = ? ORDER BY id", arguments: [id.rawValue])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM privacy_audit ORDER BY id")
            }
            return rows.map { row in
                AuditEntry(at: Self.date(row["at"]) ?? Date(timeIntervalSince1970: 0), sellerID: row["sellerID"],
                           operation: PrivacyOperation(rawValue: row["operation"]) ?? .export, detail: row["detail"])
            }
        }
    }

    /// Checkpoints and closes the registry.
    public func close() async {
        guard closeGuard.markClosed() else { return }
        let pool = database
        _ = try? await offPool { EncryptedDatabase.close(pool) }
    }

    // MARK: - Plumbing

    private func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch {
            throw EncryptedDatabase.storeError(error, subject: .control, operation: operation, path: path)
        }
    }

    private func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch {
            throw EncryptedDatabase.storeError(error, subject: .control, operation: operation, path: path)
        }
    }

    private static func audit(_ db: Database, _ id: String, _ op: PrivacyOperation, _ detail: String, _ now: Date) throws {
        try db.execute(sql: "INSERT INTO privacy_audit (at, sellerID, operation, detail) VALUES (?, ?, ?, ?)",
                       arguments: [iso(now), id, op.rawValue, detail])
    }

    private static func fetchSeller(_ db: Database, _ id: SellerID) throws -> RegisteredSeller {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM seller WHERE sellerID = ?", arguments: [id.rawValue]) else {
            throw SellerStoreError(.sellerNotFound, subject: "seller \(id)", operation: "unknown seller",
                                   reason: "not registered (use `sellers add`)")
        }
        return try seller(from: row, db)
    }

    private static func seller(from row: Row, _ db: Database) throws -> RegisteredSeller {
        let rawID: String = row["sellerID"]
        guard let id = SellerID(rawValue: rawID), let region = Region(rawValue: row["region"]) else {
            throw SellerStoreError(.database, subject: StoreSubject.control.label, operation: "invalid registry row", reason: "bad seller id or region")
        }
        var guardrails: [String: PriceGuardrail] = [:]
        for g in try Row.fetchAll(db, sql: "SELECT sku, floor, ceiling FROM price_guardrail WHERE sellerID = ?", arguments: [rawID]) {
            let sku: String = g["sku"]
            guardrails[sku] = try PriceGuardrail(sku: sku, floor: g["floor"], ceiling: g["ceiling"])
        }
        let settings = SellerSettings(targetACoS: row["targetACoS"], minBid: row["minBid"], maxBid: row["maxBid"],
                                      guardrails: guardrails, webhookURL: row["webhookURL"], slackWebhookURL: row["slackWebhookURL"])
        let marketplaces: String = row["marketplaces"]
        return RegisteredSeller(
            sellerID: id, region: region,
            marketplaceIDs: marketplaces.split(separator: ",").map(String.init),
            status: SellerStatus(rawValue: row["status"]) ?? .revoked,
            createdAt: date(row["createdAt"]) ?? Date(timeIntervalSince1970: 0),
            revokedAt: date(row["revokedAt"]),
            spRefreshToken: Secret(row["spRefreshToken"]),
            adsRefreshToken: (row["adsRefreshToken"] as String?).map(Secret.init),
            adsProfileID: row["adsProfileID"],
            settings: settings)
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
    static func date(_ text: String?) -> Date? { text.flatMap { try? Date($0, strategy: .iso8601) } }
}
