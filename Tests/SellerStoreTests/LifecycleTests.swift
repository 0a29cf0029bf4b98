#if canImport(Glibc)
import Glibc
#endif
import Domain
import Foundation
import Synchronization
import Testing
@testable import SellerStore

@Suite("Store lifecycle", .serialized)
struct LifecycleTests {
    @Test func sigkillOfAWriterMidTransactionLeavesAConsistentStore() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("CRASH1")
        let rowsPerTransaction = 2000, killAt = 6
        let probe = try ProbeProcess(["crash-writer", id.rawValue, "\(rowsPerTransaction)", "\(killAt)"],
                                     environment: temp.environment())
        defer { probe.stop() }
        var committed = 0
        while let line = try await probe.readLine() {
            if line.hasPrefix("committed ") { committed = Int(line.dropFirst(10))! }
            if line == "mid \(killAt)" { break }
        }
        #expect(committed == killAt - 1)
        // The open transaction has spilled uncommitted frames into the WAL (64 KiB page cache).
        let walSize = fileBytes(storage.databasePath(for: id) + "-wal").count
        probe.kill()
        #expect(try await probe.wait() != 0)
        #expect(walSize > 0)

        let store = try await storage.openSeller(id, create: false)
        try await store.verifyIntegrity()
        let rows = try await store.rows(SalesTrafficRow.self)
        #expect(rows.count == committed * rowsPerTransaction)
        #expect(!rows.contains { $0.asin.contains("-T\(killAt)-") })
        await store.close()
    }

    @Test func sigkillAtArbitraryPointsOfAWriteLoop() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("CRASH2")
        var previous = 0
        for (round, killAfter) in [1, 3, 2, 5].enumerated() {
            // The writer never pauses: the kill lands wherever it is (inside a transaction,
            // a WAL append, a checkpoint...). The kill point is chosen by output, not by timing.
            let probe = try ProbeProcess(["crash-writer", id.rawValue, "500", "0"], environment: temp.environment())
            defer { probe.stop() }
            var seen = 0
            while let line = try await probe.readLine() {
                if line.hasPrefix("committed ") { seen += 1 }
                if seen == killAfter { break }
            }
            probe.kill()
            _ = try await probe.wait()
            let store = try await storage.openSeller(id, create: false)
            try await store.verifyIntegrity()
            let count = try await store.count(SalesTrafficRow.self)
            // Every transaction reported committed is there; transactions are all or nothing.
            #expect(count >= previous + killAfter * 500, "round \(round)")
            #expect(count % 500 == 0)
            previous = count
            await store.close()
        }
    }

    @Test func twoProcessesOpenOneSellerStore() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("SHARED1")
        let store = try await storage.openSeller(id)
        try await store.save([traffic("PARENT-0")])
        // The child writes 200 one-row transactions while this process writes 200 too.
        let probe = try ProbeProcess(["append", id.rawValue, "200", "CHILD"], environment: temp.environment())
        defer { probe.stop() }
        for i in 1...200 { try await store.save([traffic("PARENT-\(i)")]) }
        var done: String?
        while let line = try await probe.readLine() { done = line }
        #expect(try await probe.wait() == 0)
        #expect(done?.hasPrefix("done ") == true)
        let all = try await store.rows(SalesTrafficRow.self)
        #expect(all.count == 401)
        #expect(all.filter { $0.asin.hasPrefix("CHILD-") }.count == 200)
        try await store.verifyIntegrity()
        await store.close()
    }

    @Test func wipeLeavesNothingAndAnEarlierCopyIsUnreadable() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let control = try await storage.openControlStore()
        let cache = SellerStoreCache(storage: storage, capacity: 4)
        let gone = seller("WIPEME"), kept = seller("KEEPME")
        for id in [gone, kept] {
            try await cache.withStore(id) { try await $0.save((0..<100).map { listing("S\($0)") }) }
        }
        // A copy of the data directory taken before the wipe, WAL included.
        let backup = temp.root + "/backup"
        try FileManager.default.copyItem(atPath: temp.dataDir, toPath: backup)

        try await cache.wipe(gone, auditIn: control)

        let leftovers = temp.allFiles(under: temp.dataDir) + temp.allFiles(under: temp.keyDir)
        #expect(!leftovers.contains { $0.contains("WIPEME") })
        #expect(try storage.sellersWithKeys() == [kept])
        #expect(try await control.auditLog(for: gone).map(\.operation) == [.wipe])

        // Restore the old files: without the key they cannot be opened, and a new key does not fit.
        for suffix in ["", "-wal", "-shm"] where FileSystem.exists(backup + "/seller-WIPEME.sqlite" + suffix) {
            try FileManager.default.copyItem(atPath: backup + "/seller-WIPEME.sqlite" + suffix,
                                             toPath: storage.databasePath(for: gone) + suffix)
        }
        let noKey = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(gone, create: false) }
        #expect(noKey?.code == .keyNotFound)
        let newKey = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(gone, create: true) }
        #expect(newKey?.code == .wrongKeyOrForeignFile)

        // The other seller is untouched.
        #expect(try await cache.withStore(kept) { try await $0.count(ListingSnapshot.self) } == 100)
        await cache.closeAll()
        await control.close()
    }

    func makeSellers(_ storage: SellerStorage, _ ids: [SellerID]) async throws {
        let control = try await storage.openControlStore()
        for id in ids {
            try await control.register(SellerRegistration(sellerID: id, region: .eu, marketplaceIDs: ["A1PA6795UKMFR9"],
                                                           spRefreshToken: Secret("Atzr|token-\(id)")))
            let store = try await storage.openSeller(id)
            try await store.save([listing("SKU-\(id)")])
            await store.close()
        }
        await control.close()
    }

    func expectAllReadable(_ temp: TempStore, master: MasterKey, _ ids: [SellerID],
                           sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let storage = try temp.storage(master: master)
        for id in ids {
            let store = try await storage.openSeller(id, create: false)
            #expect(try await store.rows(ListingSnapshot.self).map(\.sku) == ["SKU-\(id)"], sourceLocation: sourceLocation)
            await store.close()
        }
        let control = try await storage.openControlStore()
        #expect(try await control.sellers().count == ids.count, sourceLocation: sourceLocation)
        await control.close()
    }

    @Test func rotateMasterKeepsEverySellerReadable() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let ids = (1...5).map { seller("ROT\($0)") }
        try await makeSellers(try temp.storage(), ids)
        let dbBefore = try ids.map { try temp.storage().databasePath(for: $0) }.map(fileBytes)

        let newKey = MasterKey.generate()
        let report = try await temp.storage().rotateMaster(to: newKey)
        #expect(report == RotationReport(rewrapped: 6, alreadyRotated: 0, newFingerprint: newKey.fingerprint))
        try await expectAllReadable(temp, master: newKey, ids)
        #expect(try ids.map { try temp.storage(master: newKey).databasePath(for: $0) }.map(fileBytes).count == dbBefore.count)
        let old = #expect(throws: SellerStoreError.self) { _ = try temp.storage() }
        #expect(old?.code == .masterKeyMismatch)
        #expect(!temp.allFiles(under: temp.keyDir).contains { $0.hasSuffix(".next") || $0.contains(".tmp") })
    }

    struct SimulatedCrash: Error {}

    @Test(arguments: [
        (crashAfterNext: 2, crashAfterSwitch: -1),  // killed while writing .next files
        (crashAfterNext: -1, crashAfterSwitch: 0),  // killed right after the commit point
        (crashAfterNext: -1, crashAfterSwitch: 3),  // killed while switching
    ])
    func interruptedRotationKeepsEverySellerReadable(crashAfterNext: Int, crashAfterSwitch: Int) async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let ids = (1...5).map { seller("IROT\($0)") }
        try await makeSellers(try temp.storage(), ids)
        let newKey = MasterKey.generate()
        let counter = Counter()
        await #expect(throws: SimulatedCrash.self) {
            _ = try await temp.storage().rotateMaster(to: newKey) { step in
                switch step {
                case .wrappedNext:
                    if counter.next(.wrapped) == crashAfterNext { throw SimulatedCrash() }
                case .prepared:
                    if crashAfterSwitch == 0 { throw SimulatedCrash() }
                case .switched:
                    if counter.next(.switched) == crashAfterSwitch { throw SimulatedCrash() }
                case .finished:
                    break
                }
            }
        }
        if crashAfterNext >= 0 {
            // Before the commit point the old key still reads everything.
            try await expectAllReadable(temp, master: temp.masterKey, ids)
        } else {
            try await expectAllReadable(temp, master: newKey, ids)
        }
        // Running the rotation again (with the old key configured) finishes it.
        let report = try await temp.storage().rotateMaster(to: newKey)
        #expect(report.rewrapped + report.alreadyRotated == 6)
        try await expectAllReadable(temp, master: newKey, ids)
        #expect(throws: SellerStoreError.self) { _ = try temp.storage() }
    }

    /// Counts failure-point calls per kind (the closure is @Sendable).
    final class Counter: Sendable {
        enum Kind { case wrapped, switched }
        private let state = Mutex<[Kind: Int]>([:])

        func next(_ kind: Kind) -> Int {
            state.withLock { s in
                s[kind, default: 0] += 1
                return s[kind]!
            }
        }
    }

    @Test func migrationsUpgradeAnOlderStore() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let id = seller("OLDSCHEMA")
        let old = try await storage.openSeller(id, create: true, migrateUpTo: SellerMigrations.first)
        let oldTables = try await old.read("t") { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!oldTables.contains("listing_snapshot"))
        await old.close()

        let store = try await storage.openSeller(id, create: false)
        try await store.save([listing("NEW")])
        #expect(try await store.rows(ListingSnapshot.self).map(\.sku) == ["NEW"])
        let applied = try await store.read("t") { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
        #expect(applied == ["2026-11-29-store-meta", "2026-11-29-seller-data", "2026-11-30-alert-delivery-log"])
        await store.close()
    }

    @Test func everythingCreatedIsOwnerOnlyAndLoosePermissionsAreRefused() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let store = try await storage.openSeller(seller("PERMS1"))
        try await store.save([listing("P")])
        let control = try await storage.openControlStore()
        #expect(mode(temp.dataDir) == 0o700)
        #expect(mode(temp.keyDir) == 0o700)
        for file in temp.allFiles() { #expect(mode(file) == 0o600, "\(file)") }
        await store.close()
        await control.close()

        chmod(temp.keyDir, 0o750)
        let loose = #expect(throws: SellerStoreError.self) { _ = try temp.storage() }
        #expect(loose?.code == .insecurePermissions)
        #expect(loose?.description.contains(temp.keyDir) == true)
        chmod(temp.keyDir, 0o700)

        let sellerKey = storage.keys.path(for: .seller("PERMS1"))
        chmod(sellerKey, 0o644)
        let looseSellerKey = await #expect(throws: SellerStoreError.self) { _ = try await storage.openSeller(seller("PERMS1")) }
        #expect(looseSellerKey?.code == .insecurePermissions)
        chmod(sellerKey, 0o600)

        let keyFile = temp.root + "/master.key"
        try Data(temp.masterKey.base64EncodedSecret().utf8).write(to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o644)
        let looseKey = #expect(throws: SellerStoreError.self) { _ = try MasterKey(contentsOfFile: keyFile) }
        #expect(looseKey?.code == .insecurePermissions)
        chmod(keyFile, 0o600)
        #expect(try MasterKey(contentsOfFile: keyFile).fingerprint == temp.masterKey.fingerprint)
    }

    @Test func environmentErrorsNameTheMissingKey() throws {
        let missingData = #expect(throws: SellerStoreError.self) { _ = try StoreLocations.fromEnvironment([:]) }
        #expect(missingData?.description == "missing configuration: set OPTMAZON_DATA_DIR")
        let missingKey = #expect(throws: SellerStoreError.self) {
            _ = try StoreLocations.fromEnvironment(["OPTMAZON_DATA_DIR": "/tmp/d", "OPTMAZON_KEY_DIR": "/tmp/k"])
        }
        #expect(missingKey?.description.contains("OPTMAZON_MASTER_KEY_FILE") == true)
        let malformed = #expect(throws: SellerStoreError.self) {
            _ = try StoreLocations.fromEnvironment(["OPTMAZON_DATA_DIR": "/tmp/d", "OPTMAZON_KEY_DIR": "/tmp/k", "OPTMAZON_MASTER_KEY": "c2hvcnQ="])
        }
        #expect(malformed?.code == .masterKey)
        #expect(malformed?.description.contains("c2hvcnQ") == false)
    }

    /// Descriptors this process holds on files under `root` (other suites run in parallel, so only ours count).
    func openFileDescriptors(under root: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?.hasPrefix(root) == true
        }.count
    }

    @Test func lruCacheStaysBounded() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let cache = SellerStoreCache(storage: try temp.storage(), capacity: 3)
        try await cache.withStore(seller("WARM")) { try await $0.save([traffic("W")]) }
        let fdsBefore = openFileDescriptors(under: temp.root)
        for i in 0..<60 {
            try await cache.withStore(seller("LRU\(i)")) { try await $0.save([traffic("A\(i)")]) }
            #expect(await cache.openCount <= 3)
        }
        #expect(openFileDescriptors(under: temp.root) <= fdsBefore + 12)
        // Concurrent users of the same and different sellers.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<30 {
                group.addTask { try await cache.withStore(seller("LRU\(i % 5)")) { try await $0.count(SalesTrafficRow.self) } }
            }
            for try await count in group { #expect(count == 1) }
        }
        #expect(await cache.openCount <= 3)
        await cache.closeAll()
        #expect(await cache.openCount == 0)
    }
}

@Suite("Closing stores")
struct CloseTests {
    @Test("closing a control store or a seller store twice is harmless, and a closed store refuses work with an error")
    func closeIsIdempotent() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let storage = try temp.storage()
        let control = try await storage.openControlStore()
        await control.close()
        await control.close()
        await #expect(throws: (any Error).self) { _ = try await control.sellers() }
        let store = try await storage.openSeller(seller("CLOSE1"))
        try await store.save([listing("A")])
        await store.close()
        await store.close()
        await #expect(throws: (any Error).self) { _ = try await store.count(ListingSnapshot.self) }
    }
}
