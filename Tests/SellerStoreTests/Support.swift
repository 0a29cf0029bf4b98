#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Domain
import Foundation
@testable import SellerStore

/// A throwaway 0700 directory holding `data/` and `keys/`, removed by `cleanup()`.
struct TempStore {
    let root: String
    let masterKey: MasterKey

    var dataDir: String { root + "/data" }
    var keyDir: String { root + "/keys" }
    var locations: StoreLocations { StoreLocations(dataDirectory: dataDir, keyDirectory: keyDir, masterKey: masterKey) }

    init(masterKey: MasterKey = .generate()) {
        var template = Array((NSTemporaryDirectory() + "/sellerstore-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        root = URL(fileURLWithPath: String(cString: made!)).standardizedFileURL.path
        self.masterKey = masterKey
    }

    func storage(master: MasterKey? = nil, tuning: StoreTuning = StoreTuning()) throws -> SellerStorage {
        try SellerStorage(StoreLocations(dataDirectory: dataDir, keyDirectory: keyDir, masterKey: master ?? masterKey), tuning: tuning)
    }

    /// Environment for a child process using this store.
    func environment(master: MasterKey? = nil) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OPTMAZON_DATA_DIR"] = dataDir
        env["OPTMAZON_KEY_DIR"] = keyDir
        env["OPTMAZON_MASTER_KEY"] = (master ?? masterKey).base64EncodedSecret()
        env["OPTMAZON_MASTER_KEY_FILE"] = nil
        return env
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }

    /// Every regular file under the root, recursively.
    func allFiles(under dir: String? = nil) -> [String] {
        let base = dir ?? root
        guard let e = FileManager.default.enumerator(atPath: base) else { return [] }
        return e.compactMap { $0 as? String }.map { base + "/" + $0 }.filter { path in
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }
    }
}

func seller(_ raw: String) -> SellerID { SellerID(rawValue: raw)! }

func day(_ raw: String) -> Day { Day(rawValue: raw)! }

func listing(_ sku: String, day d: String = "2026-11-20", title: String = "Title") -> ListingSnapshot {
    ListingSnapshot(day: day(d), marketplaceID: "ATVPDKIKX0DER", sku: sku, asin: "B0\(sku)", title: title,
                    bullets: ["bullet one", "bullet two"], description: "A description", backendKeywords: "kw1 kw2",
                    brand: "Brand", status: ["BUYABLE"], issues: [ListingIssue(code: "90220", severity: "ERROR", message: "missing")],
                    price: 19.99, quantity: 5)
}

func traffic(_ asin: String, day d: String = "2026-11-20") -> SalesTrafficRow {
    SalesTrafficRow(day: day(d), marketplaceID: "ATVPDKIKX0DER", asin: asin, sessions: 10, pageViews: 20,
                    buyBoxPercentage: 95, unitSessionPercentage: 12.5, unitsOrdered: 3, orderedProductSales: 59.97)
}

func fileBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, let first = needle.first else { return false }
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first && Array(haystack[i..<(i + needle.count)]) == needle { return true }
        i += 1
    }
    return false
}

func mode(_ path: String) -> Int {
    var st = stat()
    precondition(stat(path, &st) == 0)
    return Int(st.st_mode & 0o777)
}

/// Runs blocking work (reading a child's pipe, waiting for it) off the cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

/// The probe executable, built next to the test bundle in the build products directory.
func probePath() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("optmazon-store-probe").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw SellerStoreError(.io, subject: nil, operation: "cannot find optmazon-store-probe", reason: "build it first")
}

/// A running probe process whose stdout is read line by line.
final class ProbeProcess: Sendable {
    let process: Process
    let stdout: FileHandle

    init(_ arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try probePath())
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        self.stdout = pipe.fileHandleForReading
    }

    /// Next line of output (blocking, off the pool); nil at end of output.
    func readLine() async throws -> String? {
        let fd = stdout.fileDescriptor
        return try await blocking {
            var bytes: [UInt8] = []
            var byte: UInt8 = 0
            while true {
                let n = Glibc.read(fd, &byte, 1)
                if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
                if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
        }
    }

    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Cleanup for failure paths: kills the child if it still runs (never a reaped pid) and reaps it.
    func stop() {
        guard process.isRunning else { return }
        kill()
        process.waitUntilExit()
    }

    func wait() async throws -> Int32 {
        let process = self.process
        return try await blocking {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
