// Helper process for SellerStoreTests: a second process that writes to a seller store, so the
// tests can SIGKILL a writer mid-transaction and open one store from two processes.
// Locations and master key come from OPTMAZON_DATA_DIR / OPTMAZON_KEY_DIR / OPTMAZON_MASTER_KEY.
//
//   optmazon-store-probe crash-writer SELLER ROWS KILL_AT   commit transactions of ROWS rows,
//       printing "committed N"; in transaction KILL_AT print "mid N" and block before commit.
//   optmazon-store-probe append SELLER COUNT TAG            COUNT one-row transactions, then
//       print "done TOTAL" (rows in sales_traffic).
#if canImport(Glibc)
import Glibc
#endif
import Domain
@_spi(StoreTesting) import SellerStore

func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress!, $0.count) }
}

func fail(_ message: String) -> Never {
    let bytes = Array(("optmazon-store-probe: " + message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
    exit(1)
}

func row(_ tag: String, _ i: Int) -> SalesTrafficRow {
    SalesTrafficRow(day: Day(rawValue: "2026-11-01")!, marketplaceID: "ATVPDKIKX0DER", asin: "\(tag)-\(i)",
                    sessions: i, pageViews: 2 * i, buyBoxPercentage: 50, unitSessionPercentage: 10,
                    unitsOrdered: 1, orderedProductSales: 19.99)
}

let args = CommandLine.arguments
guard args.count == 5, let seller = SellerID(rawValue: args[2]), let a = Int(args[3]) else {
    fail("usage: crash-writer SELLER ROWS KILL_AT | append SELLER COUNT TAG")
}
do {
    // A small page cache makes big transactions spill uncommitted frames into the WAL.
    let storage = try SellerStorage.fromEnvironment(tuning: StoreTuning(cacheSizeKiB: 64))
    let store = try await storage.openSeller(seller)
    switch args[1] {
    case "crash-writer":
        guard let killAt = Int(args[4]) else { fail("bad KILL_AT") }
        for n in 1... {
            let rows = (0..<a).map { row("P\(getpid())-T\(n)", $0) }
            if n == killAt {
                try await store.save(rows, beforeCommit: {
                    say("mid \(n)")
                    while true { pause() }
                })
            }
            try await store.save(rows)
            say("committed \(n)")
        }
    case "append":
        for i in 0..<a { try await store.save([row(args[4], i)]) }
        say("done \(try await store.count(SalesTrafficRow.self))")
        await store.close()
    default:
        fail("unknown command \(args[1])")
    }
} catch {
    fail("\(error)")
}
