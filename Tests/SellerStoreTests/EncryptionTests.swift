#if canImport(Glibc)
import Glibc
#endif
import Domain
import Foundation
import GRDB
import Testing
@testable import SellerStore

@Suite("Encryption at rest")
struct EncryptionTests {
    static let marker = "SECRET-MARKER-7f3a"

    /// Scans every byte of every file in the data and key directories for each needle.
    func assertNoPlaintext(_ temp: TempStore, needles: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
        let files = temp.allFiles()
        #expect(!files.isEmpty, sourceLocation: sourceLocation)
        for file in files {
            let bytes = fileBytes(file)
            for needle in needles {
                #expect(!contains(bytes, needle), "plaintext found in \(file)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func noPlaintextOnDiskDuringAndAfterWrites() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("A1MARKER")
        let token = "Atzr|\(Self.marker)-REFRESH-TOKEN"
        let control = try await storage.openControlStore()
        try await control.register(SellerRegistration(sellerID: id, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"],
                                                       spRefreshToken: Secret(token)))
        let store = try await storage.openSeller(id)
        let needles = [Array(Self.marker.utf8), Array("CREATE TABLE".utf8), Array("listing_snapshot".utf8),
                       Array("ATVPDKIKX0DER".utf8), Array("bullet one".utf8),
                       temp.masterKey.bytes, Array(temp.masterKey.base64EncodedSecret().utf8),
                       try storage.keys.load(.seller(id.rawValue))!.bytes]
        // Enough rows that pages spill and the WAL holds un-checkpointed frames.
        for batch in 0..<5 {
            try await store.save((0..<400).map { listing("S\(batch)-\($0)", title: "\(Self.marker) title \($0)") })
            #expect(FileSystem.exists(store.path + "-wal"))
            assertNoPlaintext(temp, needles: needles)
        }
        #expect(try await store.count(ListingSnapshot.self) == 2000)
        await store.close()
        await control.close()
        assertNoPlaintext(temp, needles: needles)

        // The data is there: reopening decrypts it.
        let reopened = try await storage.openSeller(id, create: false)
        #expect(try await reopened.rows(ListingSnapshot.self).filter { $0.title.hasPrefix(Self.marker) }.count == 2000)
        try await reopened.verifyIntegrity()
        await reopened.close()
    }

    @Test func wrongDataKeyIsAClearError() async throws {
        let a = TempStore(), b = TempStore()
        defer { a.cleanup(); b.cleanup() }
        let id = seller("WRONGKEY1")
        let storeA = try await a.storage().openSeller(id)
        try await storeA.save([listing("X")])
        await storeA.close()
        // Same seller id in another deployment: a different data key.
        let storageB = try b.storage()
        await (try await storageB.openSeller(id)).close()
        try FileManager.default.removeItem(atPath: storageB.databasePath(for: id))
        try FileManager.default.copyItem(atPath: storeA.path, toPath: storageB.databasePath(for: id))

        let error = await #expect(throws: SellerStoreError.self) { _ = try await storageB.openSeller(id) }
        #expect(error?.code == .wrongKeyOrForeignFile)
        #expect(error?.description == "seller WRONGKEY1: cannot open \(storageB.databasePath(for: id)): wrong key or not an OptMazon store")
    }

    @Test func wrongMasterKeyStopsAtStart() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        _ = try temp.storage()
        let error = #expect(throws: SellerStoreError.self) { _ = try temp.storage(master: .generate()) }
        #expect(error?.code == .masterKeyMismatch)
        #expect(error?.description.contains(temp.keyDir) == true)
    }

    @Test func fileOfSellerAPresentedAsSellerB() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let a = seller("SELLERA"), b = seller("SELLERB")
        let storeA = try await storage.openSeller(a)
        try await storeA.save([listing("A-ONLY")])
        await storeA.close()
        await (try await storage.openSeller(b)).close()

        // A's database in B's place.
        let pathB = storage.databasePath(for: b)
        try FileManager.default.removeItem(atPath: pathB)
        try FileManager.default.copyItem(atPath: storeA.path, toPath: pathB)
        let error = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(b) }
        #expect(error?.code == .wrongKeyOrForeignFile)
        #expect(error?.description.hasPrefix("seller SELLERB: cannot open \(pathB)") == true)

        // A's wrapped key in B's place: the seller id is bound into the wrapping.
        let keyB = storage.keys.path(for: .seller("SELLERB"))
        try FileManager.default.removeItem(atPath: keyB)
        try FileManager.default.copyItem(atPath: storage.keys.path(for: .seller("SELLERA")), toPath: keyB)
        let keyError = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(b) }
        #expect(keyError?.code == .invalidKeyFile)
        #expect(keyError?.description.contains("seller SELLERB") == true)
    }

    /// Creates a seller with `rows` listings, closes it (checkpointed), returns its path.
    func makeClosedStore(_ storage: SellerStorage, _ id: SellerID, rows: Int = 300) async throws -> String {
        let store = try await storage.openSeller(id)
        try await store.save((0..<rows).map { listing("SKU\($0)", title: String(repeating: "t", count: 200)) })
        await store.close()
        #expect(!FileSystem.exists(store.path + "-wal") || fileBytes(store.path + "-wal").isEmpty)
        return store.path
    }

    func flipByte(_ path: String, at offset: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ 0x01])
    }

    @Test func tamperedByteInADataPage() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("TAMPER1")
        let path = try await makeClosedStore(storage, id)
        let size = fileBytes(path).count
        #expect(size > 8 * 4096)
        try flipByte(path, at: size - 4096 + 1000) // inside the last page
        let store = try await storage.openSeller(id, create: false)
        let error = await #expect(throws: SellerStoreError.self) { _ = try await store.exportAll() }
        #expect(error?.code == .tamperedOrCorrupt)
        #expect(error?.description == "seller TAMPER1: cannot export \(path): a page failed authentication (tampered or truncated file)")
        await store.close()
    }

    @Test func tamperedByteInPageOneOrItsHeader() async throws {
        for offset in [10, 500] { // plaintext (authenticated) header, and encrypted part of page 1
            let temp = TempStore()
            defer { temp.cleanup() }
            let storage = try temp.storage()
            let id = seller("TAMPER2")
            let path = try await makeClosedStore(storage, id)
            try flipByte(path, at: offset)
            let error = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(id, create: false) }
            #expect(error?.code == .wrongKeyOrForeignFile)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func tamperedWrappedKey() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("TAMPER3")
        _ = try await makeClosedStore(storage, id, rows: 1)
        try flipByte(storage.keys.path(for: .seller(id.rawValue)), at: 40)
        let error = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(id) }
        #expect(error?.code == .invalidKeyFile)
    }

    @Test(arguments: [1000, 4096, 3 * 4096 + 17])
    func truncatedFile(cut: Int) async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("TRUNC1")
        let path = try await makeClosedStore(storage, id)
        let size = fileBytes(path).count
        #expect(truncate(path, off_t(size - cut)) == 0)
        var error: SellerStoreError?
        do {
            let store = try await storage.openSeller(id, create: false)
            do { _ = try await store.exportAll() } catch let e as SellerStoreError { error = e }
            await store.close()
        } catch let e as SellerStoreError {
            error = e
        }
        #expect(error?.code == .tamperedOrCorrupt)
        #expect(error?.description.hasPrefix("seller TRUNC1: ") == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test func plainSQLiteCannotReadNorDestroyTheWAL() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("PLAIN1")
        let store = try await storage.openSeller(id)
        try await store.save((0..<200).map { traffic("B\($0)") })
        // Copy db + WAL while open: the rows live only in the WAL.
        let copy = temp.root + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: store.path, toPath: copy)
        try FileManager.default.copyItem(atPath: store.path + "-wal", toPath: copy + "-wal")
        let walBefore = fileBytes(copy + "-wal")
        #expect(walBefore.count > 10_000)
        await store.close()

        // Plain SQLite (GRDB on the default VFS) must fail, and must not discard the WAL on close.
        #expect(throws: DatabaseError.self) {
            let plain = try DatabaseQueue(path: copy)
            defer { try? plain.close() }
            _ = try plain.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sales_traffic") }
        }
        #expect(fileBytes(copy + "-wal") == walBefore)

        // With the key, the copy (db + WAL) holds every row.
        let key = try #require(try storage.keys.load(.seller(id.rawValue)))
        let (pool, registration) = try EncryptedDatabase.open(path: copy, key: key, subject: .seller(id.rawValue), tuning: StoreTuning(),
                                                              migrator: SellerMigrations.migrator, migrateUpTo: nil)
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sales_traffic") } == 200)
        try pool.close()
        _ = registration
    }
}
