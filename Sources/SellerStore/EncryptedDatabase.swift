import Synchronization
import CSQLiteCrypt
import Dispatch
import Foundation
import GRDB

/// Connection settings of an encrypted store.
public struct StoreTuning: Sendable {
    /// SQLite page cache per connection, KiB (`PRAGMA cache_size = -N`).
    public var cacheSizeKiB: Int
    /// Reader connections per open store (the writer comes on top).
    public var maximumReaderCount: Int
    /// How long a writer waits for another process's write lock, seconds.
    public var busyTimeout: Double

    public init(cacheSizeKiB: Int = 2048, maximumReaderCount: Int = 2, busyTimeout: Double = 10) {
        self.cacheSizeKiB = cacheSizeKiB
        self.maximumReaderCount = maximumReaderCount
        self.busyTimeout = busyTimeout
    }
}

/// A data key placed in the VFS's key table for as long as a store is open; removed on deinit.
final class KeyRegistration: Sendable {
    let token: String

    init(_ key: DataKey, subject: StoreSubject) throws(SellerStoreError) {
        var buffer = [CChar](repeating: 0, count: Int(SQLCRYPT_TOKEN_BYTES))
        guard sqlcrypt_key_register(key.bytes, key.bytes.count, &buffer) == 0 else {
            throw SellerStoreError(.io, subject: subject.label, operation: "cannot register key", reason: "OpenSSL failure")
        }
        token = String(decoding: buffer.prefix(32).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { sqlcrypt_key_unregister(token) }
}

/// Opens GRDB pools through the AES-256-GCM VFS of `CSQLiteCrypt` and maps SQLite errors to one line.
enum EncryptedDatabase {
    static let vfsName = "optmazon-aesgcm"
    private static let registration: Int32 = sqlcrypt_register(vfsName)

    /// Opens (creating if needed, 0600) the encrypted database at `path` with `key`, then migrates it.
    ///
    /// Several processes may open one new store at the same moment (an operator starts every worker at once on a
    /// fresh data directory). SQLite answers the losers of the switch to WAL with `SQLITE_BUSY` without waiting,
    /// and a migration that another process applied between GRDB's look at the applied list and its own attempt
    /// fails with "already exists". Both are retried, within the store's busy timeout: each migration is one
    /// transaction together with its bookkeeping row, so a retry sees it either whole or not at all.
    static func open(path: String, key: DataKey, subject: StoreSubject, tuning: StoreTuning,
                     migrator: DatabaseMigrator, migrateUpTo: String?) throws(SellerStoreError) -> (DatabasePool, KeyRegistration) {
        guard registration == 0 else {
            throw SellerStoreError(.database, subject: subject.label, operation: "cannot open", path: path,
                                   reason: "encryption VFS registration failed (SQLite code \(registration))")
        }
        try FileSystem.ensurePrivateFile(path, subject: subject.label)
        let keyRegistration = try KeyRegistration(key, subject: subject)
        let deadline = ContinuousClock.now + .seconds(max(tuning.busyTimeout, 1))
        var migrationAttempts = 0
        while true {
            let pool: DatabasePool
            do {
                pool = try DatabasePool(path: uri(path: path, token: keyRegistration.token),
                                        configuration: configuration(tuning, encrypted: true))
            } catch {
                if isBusy(error), ContinuousClock.now < deadline {
                    pauseBeforeRetry()
                    continue
                }
                throw storeError(error, subject: subject, operation: "cannot open", path: path)
            }
            do {
                if let migrateUpTo {
                    try migrator.migrate(pool, upTo: migrateUpTo)
                } else {
                    try migrator.migrate(pool)
                }
                return (pool, keyRegistration)
            } catch {
                try? pool.close()
                migrationAttempts += 1
                // A race resolves on the next look; a migration that is simply broken fails the same way again.
                if (isBusy(error) || migrationAttempts < 3), error is DatabaseError, ContinuousClock.now < deadline {
                    pauseBeforeRetry()
                    continue
                }
                throw storeError(error, subject: subject, operation: "cannot migrate", path: path)
            }
        }
    }

    private static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// 10–50 ms, jittered so two processes that collided do not collide again. Runs on a store thread, never
    /// on the cooperative pool (stores are opened through `offPool`).
    private static func pauseBeforeRetry() {
        usleep(UInt32.random(in: 10_000...50_000))
    }

    /// GRDB configuration of a store connection (the benchmark's plain baseline uses `encrypted: false`).
    static func configuration(_ tuning: StoreTuning, encrypted: Bool) -> Configuration {
        var config = Configuration()
        config.maximumReaderCount = max(1, tuning.maximumReaderCount)
        config.busyMode = .timeout(tuning.busyTimeout)
        config.publicStatementArguments = false
        let cacheKiB = tuning.cacheSizeKiB
        config.prepareDatabase { db in
            if encrypted {
                // Before GRDB's `PRAGMA journal_mode = WAL`: the reserve only applies to a new, empty file.
                _ = sqlcrypt_request_reserve(UnsafeMutableRawPointer(db.sqliteConnection))
            }
            // Temp files and statement journals would bypass the encryption: keep them in memory
            // (the VFS refuses to open them anyway).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
        }
        return config
    }

    /// `file:` URI naming the VFS and the key token; path characters outside a safe set are %-escaped.
    static func uri(path: String, token: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/._-~")
        let escaped = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return "file:\(escaped)?vfs=\(vfsName)&kid=\(token)"
    }

    /// Checkpoints the WAL into the database file (so no data waits in `-wal`) and closes the pool.
    static func close(_ pool: DatabasePool) {
        // Best effort: another process may hold a read lock (SQLITE_BUSY); the WAL stays encrypted.
        try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try? pool.close()
    }

    /// Maps any error of the database layer to a one-line `SellerStoreError`.
    static func storeError(_ error: any Error, subject: StoreSubject, operation: String, path: String) -> SellerStoreError {
        if let error = error as? SellerStoreError { return error }
        guard let error = error as? DatabaseError else {
            return SellerStoreError(.database, subject: subject.label, operation: operation, path: path, reason: "\(error)")
        }
        let extended = error.extendedResultCode.rawValue
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return SellerStoreError(.wrongKeyOrForeignFile, subject: subject.label, operation: operation, path: path,
                                    reason: "wrong key or not an OptMazon store")
        case .SQLITE_CORRUPT:
            return SellerStoreError(.tamperedOrCorrupt, subject: subject.label, operation: operation, path: path,
                                    reason: "the file is corrupt or truncated")
        case .SQLITE_IOERR where extended == 8202 /* SQLITE_IOERR_DATA */:
            return SellerStoreError(.tamperedOrCorrupt, subject: subject.label, operation: operation, path: path,
                                    reason: "a page failed authentication (tampered or truncated file)")
        case .SQLITE_CANTOPEN:
            return SellerStoreError(.database, subject: subject.label, operation: operation, path: path,
                                    reason: "cannot open the file (missing, not accessible, or a WAL not written by OptMazon)")
        default:
            return SellerStoreError(.database, subject: subject.label, operation: operation, path: path,
                                    reason: "\(error.message ?? "SQLite error") (SQLite code \(extended))")
        }
    }
}

/// Runs blocking file and SQLite work off the cooperative thread pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Whether a store's connections were closed.
///
/// GRDB leaves a closed pool's SQLite handles freed; touching them again crashes the process. Store values are
/// copied freely, so the flag lives in one shared object.
final class CloseGuard: Sendable {
    private let closed = Mutex(false)

    var isClosed: Bool { closed.withLock { $0 } }

    /// Marks the store closed; true only for the call that actually closed it.
    func markClosed() -> Bool {
        closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
    }
}
