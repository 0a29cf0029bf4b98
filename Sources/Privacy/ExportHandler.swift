import Crypto
public import Domain
public import Foundation
public import JobQueue
public import SellerStore

/// The manifest at the head of an export archive: what each file holds and its SHA-256.
public struct ExportManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// Path inside the archive (`optmazon-export/tables/listing_snapshot.json`).
        public var path: String
        /// The table the file holds, when it holds one.
        public var table: String?
        /// Number of rows (entries for the registry and audit files).
        public var rows: Int
        public var bytes: Int
        /// Lower-case hex SHA-256 of the file's bytes.
        public var sha256: String
    }

    public var format: String
    public var sellerID: SellerID
    public var createdAt: Date
    /// The export job that wrote the archive (a retried job recognises its own archive).
    public var jobID: String
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case format, sellerID = "seller_id", createdAt = "created_at", jobID = "job_id", files
    }
}

/// The `export` job: writes every piece of data held for a seller into a tar archive at the
/// job's `out` path, owner-only (0600): one JSON file per table, the registry entry (without
/// its refresh tokens) and the seller's audit log, plus a manifest with counts and SHA-256s.
///
/// The archive is written to a temporary file and linked into place, so `out` is either absent
/// or complete; an existing `out` is never overwritten.
public struct ExportHandler: JobHandler {
    public static let format = "optmazon-export-v1"
    /// Directory every member of the archive lives under.
    public static let root = "optmazon-export"
    /// Path of the manifest inside the archive (the archive's first member).
    public static let manifestPath = "\(root)/manifest.json"

    public let storage: SellerStorage
    public let control: ControlStore
    private let now: @Sendable () -> Date

    public init(storage: SellerStorage, control: ControlStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.control = control
        self.now = now
    }

    /// Closes the registry; the worker process calls it once the worker stopped.
    public func close() async {
        await control.close()
    }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        guard let out = job.arguments["out"], out.hasPrefix("/") else {
            throw JobError.permanent(PrivacyError(seller: job.seller, operation: "export", reason: "the job has no absolute 'out' path").description)
        }
        let manifest = try await export(job.seller, to: out, jobID: job.id)
        context.logger.info("export archive written", metadata: [
            "files": "\(manifest.files.count)", "rows": "\(manifest.files.reduce(0) { $0 + $1.rows })",
        ])
    }

    /// Writes the archive; returns its manifest.
    public func export(_ seller: SellerID, to out: String, jobID: String) async throws -> ExportManifest {
        func refuse(_ reason: String) -> JobError {
            JobError.permanent(PrivacyError(seller: seller, operation: "export", reason: reason).description)
        }
        let entry: RegisteredSeller
        do {
            entry = try await control.seller(seller)
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            if try await control.wipedSeller(seller) != nil { throw refuse("the seller was wiped; no data is held") }
            throw refuse("not registered")
        }
        let createdAt = now()
        var members: [(path: String, table: String?, rows: Int, bytes: [UInt8])] = []
        if try await storage.hasKey(seller), try await !storage.storeFiles(of: seller).isEmpty {
            let store = try await storage.openSeller(seller, create: false)
            let data: SellerExport
            do {
                data = try await store.exportAll()
                await store.close()
            } catch {
                await store.close()
                throw PrivacyError(seller: seller, operation: "export", reason: "\(error)")
            }
            for table in data.tables {
                let rows = table.rows.map { values in
                    Dictionary(uniqueKeysWithValues: zip(table.columns, values))
                }
                let body = TableFile(table: table.name, columns: table.columns, rows: rows)
                members.append(("\(Self.root)/tables/\(table.name).json", table.name, table.rows.count, try Self.json(body)))
            }
        }
        let registry = RegistryFile(entry)
        members.append(("\(Self.root)/registry.json", nil, 1, try Self.json(registry)))
        let audit = try await control.auditLog(for: seller).map(AuditFile.Entry.init)
        members.append(("\(Self.root)/audit_log.json", nil, audit.count, try Self.json(AuditFile(entries: audit))))

        let manifest = ExportManifest(
            format: Self.format, sellerID: seller, createdAt: createdAt, jobID: jobID,
            files: members.map { member in
                .init(path: member.path, table: member.table, rows: member.rows, bytes: member.bytes.count,
                      sha256: SHA256.hash(data: member.bytes).map { String(format: "%02x", $0) }.joined())
            })
        var tar = TarArchive()
        tar.append(name: Self.manifestPath, contents: try Self.json(manifest), modified: createdAt)
        for member in members { tar.append(name: member.path, contents: member.bytes, modified: createdAt) }
        do {
            try await PrivateFile.writeNew(tar.finished(), to: out, temporarySuffix: jobID)
        } catch where error.alreadyExists {
            // A retry of this very job after a crash between writing and acknowledging finds its own archive.
            if let existing = await Self.manifest(at: out), existing.jobID == jobID, existing.sellerID == seller { return existing }
            throw refuse("\(out) already exists; it is never overwritten")
        } catch where error.permanent {
            throw refuse(error.description)
        } catch {
            throw PrivacyError(seller: seller, operation: "export", reason: error.description)
        }
        try await control.recordAudit(seller, .export, detail: "export archive written: \(members.count) files, \(members.reduce(0) { $0 + $1.rows }) rows", at: createdAt)
        return manifest
    }

    /// The manifest of an archive written by this handler (its first member), or nil; read off the cooperative pool.
    public static func manifest(at path: String) async -> ExportManifest? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: readManifest(at: path)) }
        }
    }

    private static func readManifest(at path: String) -> ExportManifest? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 512), header.count == 512 else { return nil }
        let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
        guard name == manifestPath, let size = Int(String(decoding: header[124..<135], as: UTF8.self), radix: 8),
              size < 16 << 20, let body = try? handle.read(upToCount: size) else { return nil }
        return try? decoder.decode(ExportManifest.self, from: body)
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    private static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(value))
    }

    private struct TableFile: Encodable {
        var table: String
        var columns: [String]
        var rows: [[String: String?]]
    }

    /// The registry entry as the seller may see it: refresh tokens are secrets and only said to be held.
    private struct RegistryFile: Encodable {
        var sellerID: String
        var region: String
        var marketplaceIDs: [String]
        var status: String
        var createdAt: Date
        var revokedAt: Date?
        var spRefreshTokenHeld: Bool
        var adsRefreshTokenHeld: Bool
        var adsProfileID: String?
        var targetACoS: Double
        var minBid: Double
        var maxBid: Double
        var priceGuardrails: [PriceGuardrail]
        var webhookConfigured: Bool
        var slackWebhookConfigured: Bool

        init(_ s: RegisteredSeller) {
            sellerID = s.sellerID.rawValue
            region = s.region.rawValue
            marketplaceIDs = s.marketplaceIDs
            status = s.status.rawValue
            createdAt = s.createdAt
            revokedAt = s.revokedAt
            spRefreshTokenHeld = true
            adsRefreshTokenHeld = s.adsRefreshToken != nil
            adsProfileID = s.adsProfileID
            targetACoS = s.settings.targetACoS
            minBid = s.settings.minBid
            maxBid = s.settings.maxBid
            priceGuardrails = s.settings.guardrails.values.sorted { $0.sku < $1.sku }
            webhookConfigured = s.settings.webhookURL != nil
            slackWebhookConfigured = s.settings.slackWebhookURL != nil
        }
    }

    private struct AuditFile: Encodable {
        struct Entry: Encodable {
            var at: Date
            var operation: String
            var detail: String

            init(_ entry: AuditEntry) {
                at = entry.at
                operation = entry.operation.rawValue
                detail = entry.detail
            }
        }

        var entries: [Entry]
    }
}
