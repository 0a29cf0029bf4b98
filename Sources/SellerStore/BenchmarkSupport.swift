public import Domain
import GRDB

/// Hooks for `optmazon-bench store`: the same store code with and without the encrypting VFS.
extension SellerStorage {
    /// Opens a seller database WITHOUT encryption (plain SQLite, same GRDB settings and schema), for benchmarks only.
    @_spi(Benchmark)
    public func openSellerWithoutEncryption(_ id: SellerID) async throws -> SellerStore {
        let tuning = self.tuning, path = "\(locations.dataDirectory)/plain-\(id.rawValue).sqlite"
        return try await offPool { () throws -> SellerStore in
            let subject = StoreSubject.seller(id.rawValue)
            do {
                let pool = try DatabasePool(path: path, configuration: EncryptedDatabase.configuration(tuning, encrypted: false))
                try SellerMigrations.migrator.migrate(pool)
                try SellerStore.bindIdentity(pool, seller: id, path: path)
                return SellerStore(sellerID: id, path: path, database: pool, keyRegistration: nil)
            } catch {
                throw EncryptedDatabase.storeError(error, subject: subject, operation: "cannot open", path: path)
            }
        }
    }
}

extension SellerStore {
    /// Inserts `count` rows into a benchmark table in one transaction with one prepared statement.
    @_spi(Benchmark)
    public func benchmarkInsertItems(count: Int) async throws {
        try await write("benchmark") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS bench_item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL, score REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS bench_item_name ON bench_item(name);
                """)
            let statement = try db.makeStatement(sql: "INSERT INTO bench_item (id, name, payload, score) VALUES (?, ?, ?, ?)")
            let payload = String(repeating: "listing text payload ", count: 8)
            for i in 0..<count {
                try statement.execute(arguments: [i, "name-\(i % 9973)-\(i)", payload, Double(i) * 0.5])
            }
        }
    }

    /// Reads every benchmark row through a reader connection; returns a checksum of the ids.
    @_spi(Benchmark)
    public func benchmarkReadItems() async throws -> Int {
        try await read("benchmark") { db in
            var sum = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT id, name, payload, score FROM bench_item")
            while let row = try cursor.next() {
                let id: Int = row[0]
                let name: String = row[1]
                sum &+= id &+ name.utf8.count
            }
            return sum
        }
    }
}
