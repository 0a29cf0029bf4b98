import CSQLiteCrypt
import Domain
import Foundation
import GRDB
import Testing
@testable import SellerStore

/// The hand-written VFS, exercised below the store API: WAL recovery, tampered frames, and the
/// fail-closed refusals (temp files, journal page images, missing reserve, unknown key).
@Suite("AES-256-GCM VFS")
struct VFSTests {
    func randomKey() -> DataKey {
        var bytes = [UInt8](repeating: 0, count: 32)
        _ = sqlcrypt_random(&bytes, 32)
        return DataKey(bytes: bytes)
    }

    /// A pool on `path` through the VFS, migrated with a one-table schema.
    func openPool(_ path: String, key: DataKey) throws -> (DatabasePool, KeyRegistration) {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("t") { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        }
        return try EncryptedDatabase.open(path: path, key: key, subject: .seller("VFS"), tuning: StoreTuning(cacheSizeKiB: 256),
                                          migrator: migrator, migrateUpTo: nil)
    }

    func value(_ i: Int) -> String { "row-\(i)-" + String(repeating: "x", count: 100) }

    @Test func walRecoveryFromACopyTakenWhileOpen() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let key = randomKey()
        let path = temp.dataDir + "/a.sqlite", copy = temp.dataDir + "/copy.sqlite"
        let (pool, registration) = try openPool(path, key: key)
        try pool.write { db in for i in 0..<3000 { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, value(i)]) } }
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        try pool.close()
        _ = registration

        // SQLite's WAL recovery reads every frame through the VFS and verifies its checksums.
        let (recovered, r2) = try openPool(copy, key: key)
        #expect(try recovered.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 3000)
        #expect(try recovered.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        try recovered.close()
        _ = r2
    }

    @Test func aTamperedWALFrameIsNeverReturnedAsData() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let key = randomKey()
        let path = temp.dataDir + "/a.sqlite", copy = temp.dataDir + "/copy.sqlite"
        let (pool, registration) = try openPool(path, key: key)
        for batch in 0..<10 {
            try pool.write { db in
                for i in (batch * 100)..<(batch * 100 + 100) {
                    try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, value(i)])
                }
            }
        }
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        try pool.close()
        _ = registration

        // Flip one byte in the page image of a frame in the middle of the WAL.
        var wal = fileBytes(copy + "-wal")
        let frameSize = 4096 + 24
        let frames = (wal.count - 32) / frameSize
        #expect(frames > 10)
        wal[32 + (frames / 2) * frameSize + 24 + 100] ^= 0x40
        try Data(wal).write(to: URL(fileURLWithPath: copy + "-wal"))

        // Recovery stops at the damaged frame (as for a torn write): later commits are lost, but
        // what is returned is exactly what was written, and the database is consistent.
        let (recovered, r2) = try openPool(copy, key: key)
        let rows = try recovered.read { db in try Row.fetchAll(db, sql: "SELECT id, v FROM t") }
        #expect(rows.count < 1000)
        for row in rows {
            let id: Int = row["id"]
            #expect(row["v"] == value(id))
        }
        #expect(try recovered.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        try recovered.close()
        _ = r2
    }

    @Test func temporaryFilesAreRefused() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let store = try await temp.storage().openSeller(seller("TEMPFILE"))
        // With temp_store = FILE SQLite would write a plaintext temp file: the VFS refuses to open it.
        let error = await #expect(throws: DatabaseError.self) {
            try await store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA temp_store = FILE")
                defer { try? db.execute(sql: "PRAGMA temp_store = MEMORY") }
                try db.execute(sql: "PRAGMA temp.cache_size = 10")
                try db.execute(sql: "CREATE TEMP TABLE scratch (x)")
                try db.inTransaction {
                    for i in 0..<2000 { try db.execute(sql: "INSERT INTO scratch VALUES (?)", arguments: [String(repeating: "s", count: 500) + "\(i)"]) }
                    return .commit
                }
            }
        }
        #expect(error?.resultCode == .SQLITE_CANTOPEN)
        #expect(temp.allFiles().allSatisfy { !contains(fileBytes($0), Array("sssssssss".utf8)) })
        await store.close()
    }

    func queueConfiguration(reserve: Bool) -> Configuration {
        var config = Configuration()
        config.prepareDatabase { db in
            if reserve { _ = sqlcrypt_request_reserve(UnsafeMutableRawPointer(db.sqliteConnection)) }
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    @Test func aRollbackJournalNeverReceivesAPageImage() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let path = temp.dataDir + "/journal.sqlite"
        let registration = try KeyRegistration(randomKey(), subject: .seller("J"))
        // A DatabaseQueue stays in rollback-journal mode. Creating the database writes no page
        // image to the journal (there is no old page); changing an existing page would.
        let queue = try DatabaseQueue(path: EncryptedDatabase.uri(path: path, token: registration.token),
                                      configuration: queueConfiguration(reserve: true))
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (v TEXT)") }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in try db.execute(sql: "INSERT INTO t VALUES ('must not reach a journal in plaintext')") }
        }
        try queue.close()
        #expect(!contains(fileBytes(path), Array("plaintext".utf8)))
    }

    @Test func aDatabaseWithoutReservedBytesIsRefused() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let registration = try KeyRegistration(randomKey(), subject: .seller("R"))
        let uri = EncryptedDatabase.uri(path: temp.dataDir + "/noreserve.sqlite", token: registration.token)
        #expect(throws: DatabaseError.self) {
            let queue = try DatabaseQueue(path: uri, configuration: queueConfiguration(reserve: false))
            try queue.write { db in try db.execute(sql: "CREATE TABLE t (v TEXT)") }
        }
    }

    @Test func noConnectionOpensOnceTheKeyIsUnregistered() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let path = temp.dataDir + "/gone.sqlite"
        var uri = ""
        do {
            let (pool, registration) = try openPool(path, key: randomKey())
            uri = EncryptedDatabase.uri(path: path, token: registration.token)
            try pool.close()
        }
        #expect(throws: DatabaseError.self) {
            _ = try DatabaseQueue(path: uri, configuration: queueConfiguration(reserve: true)).read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM t")
            }
        }
        // Without the VFS, SQLite sees only ciphertext.
        #expect(throws: DatabaseError.self) {
            _ = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        }
    }

    @Test func eachPageWriteUsesAFreshNonce() throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let path = temp.dataDir + "/nonce.sqlite"
        let (pool, registration) = try openPool(path, key: randomKey())
        var previous: [UInt8] = []
        var changedPages = 0
        for i in 0..<5 {
            try pool.write { db in try db.execute(sql: "INSERT OR REPLACE INTO t VALUES (1, ?)", arguments: ["same size \(i)"]) }
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            let bytes = fileBytes(path)
            for page in 0..<(min(bytes.count, previous.count) / 4096) {
                let range = (page * 4096)..<((page + 1) * 4096)
                guard bytes[range] != previous[range] else { continue }
                changedPages += 1
                // A rewritten page never reuses its nonce (reserved bytes at the page end).
                let nonce = (page + 1) * 4096 - 32
                #expect(bytes[nonce..<(nonce + 12)] != previous[nonce..<(nonce + 12)])
            }
            previous = bytes
        }
        #expect(changedPages >= 4)
        try pool.close()
        _ = registration
    }

    /// Deterministic pseudo-random numbers (SplitMix64) so a failure replays.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test(arguments: [1, 2, 3])
    func randomWorkloadMatchesAModel(seed: UInt64) throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        try FileManager.default.createDirectory(atPath: temp.dataDir, withIntermediateDirectories: true)
        let key = randomKey()
        let path = temp.dataDir + "/random.sqlite"
        var model: [Int: String] = [:]
        var rng = SplitMix(state: seed)
        // A tiny page cache forces spills of uncommitted pages into the WAL and in-place rewrites
        // of frames; savepoint rollbacks, overflow pages (large values) and checkpoints vary the
        // access patterns the VFS sees.
        var (pool, registration) = try openPool(path, key: key)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = 8") }
        for round in 0..<40 {
            let ops = (0..<(20 + rng.next(200))).map { _ in (rng.next(10), rng.next(500), rng.next(6000)) }
            let rollbackPart = rng.next(4) == 0
            try pool.write { db in
                var pending = model
                for (i, (op, id, size)) in ops.enumerated() {
                    if rollbackPart && i == ops.count / 2 { try db.execute(sql: "SAVEPOINT part") }
                    let value = String(repeating: Character(UnicodeScalar(UInt8(65 + (id + size) % 26))), count: 1 + size) + "#\(round)"
                    if op < 7 {
                        try db.execute(sql: "INSERT OR REPLACE INTO t VALUES (?, ?)", arguments: [id, value])
                        if !(rollbackPart && i >= ops.count / 2) { pending[id] = value }
                    } else {
                        try db.execute(sql: "DELETE FROM t WHERE id = ?", arguments: [id])
                        if !(rollbackPart && i >= ops.count / 2) { pending[id] = nil }
                    }
                }
                if rollbackPart { try db.execute(sql: "ROLLBACK TO part; RELEASE part") }
                model = pending
            }
            if rng.next(5) == 0 { try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) } }
            if rng.next(8) == 0 {
                try pool.close()
                (pool, registration) = try openPool(path, key: key)
                try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = 8") }
            }
        }
        let stored = try pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, v FROM t").map { ($0["id"] as Int, $0["v"] as String) })
        }
        #expect(stored == model)
        #expect(try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        try pool.close()
        _ = registration
    }
}
