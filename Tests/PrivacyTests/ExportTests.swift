import Crypto
import Domain
import Foundation
import JobQueue
import PipelineTesting
import Privacy
import SellerStore
import Testing

@Suite("Export archive")
struct ExportTests {
    @Test("the archive holds one JSON file per table, the registry and audit log, and a manifest whose counts and SHA-256s match; it is owner-only")
    func archiveMatchesStore() async throws {
        let f = try await PrivacyFixture()
        let token = "Atzr|EXPORT-TOKEN-\(UUID().uuidString)"
        let seller = try await f.register("EXP1", token: token)
        let today = Day(Date())
        try await f.store(seller, listingDays: [today, today.adding(days: -1), today.adding(days: -2)])
        let out = f.root.appendingPathComponent("export.tar").path
        let job = PrivacyJobs.export(seller, to: out)
        try await ExportHandler(storage: f.storage, control: f.control).handle(job, context: f.context(for: job))

        #expect(fileMode(out) == 0o600)
        let manifest = try #require(await ExportHandler.manifest(at: out))
        #expect(manifest.sellerID == seller && manifest.jobID == job.id && manifest.format == ExportHandler.format)
        let extracted = f.root.appendingPathComponent("extracted")
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        let tar = try await runTool("/usr/bin/env", ["tar", "-xf", out, "-C", extracted.path])
        #expect(tar.status == 0, "tar reads the archive: \(tar.output)")

        let store = try await f.storage.openSeller(seller, create: false)
        let expected: [String: Int] = [
            "listing_snapshot": try await store.count(ListingSnapshot.self),
            "sales_traffic": try await store.count(SalesTrafficRow.self),
            "alert": try await store.count(Alert.self),
        ]
        await store.close()
        #expect(expected["listing_snapshot"] == 3 && expected["sales_traffic"] == 1)
        let tables = Set(manifest.files.compactMap(\.table))
        #expect(tables.isSuperset(of: Set(SellerTable.all.map(\.name))), "one file per table")
        for file in manifest.files {
            let data = try Data(contentsOf: extracted.appendingPathComponent(file.path))
            #expect(data.count == file.bytes)
            #expect(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() == file.sha256, "hash of \(file.path)")
            if let table = file.table, let count = expected[table] {
                #expect(file.rows == count, "row count of \(table)")
                let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                #expect((body?["rows"] as? [Any])?.count == count)
            }
        }
        let registry = try String(contentsOf: extracted.appendingPathComponent("optmazon-export/registry.json"), encoding: .utf8)
        #expect(registry.contains("ATVPDKIKX0DER"))
        let whole = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(whole.range(of: Data(token.utf8)) == nil, "refresh tokens are never exported")
        #expect(try await f.control.auditLog(for: seller).contains { $0.operation == .export })

        let again = PrivacyJobs.export(seller, to: out)
        await #expect(throws: JobError.self, "an existing file is never overwritten") {
            try await ExportHandler(storage: f.storage, control: f.control).handle(again, context: f.context(for: again))
        }
        try await f.cleanup()
    }

    @Test("an export to a directory that does not exist fails for good (no retries) and leaves nothing behind")
    func missingDirectory() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("EXP3")
        let out = f.root.appendingPathComponent("missing/export.tar").path
        let job = PrivacyJobs.export(seller, to: out)
        await #expect(throws: JobError.permanent("seller EXP3: export: cannot create \(out).partial-\(job.id): No such file or directory")) {
            try await ExportHandler(storage: f.storage, control: f.control).handle(job, context: f.context(for: job))
        }
        try await f.cleanup()
    }

    @Test("a retried export job that already wrote its archive succeeds without rewriting it")
    func retryFindsOwnArchive() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("EXP2")
        try await f.store(seller, listingDays: [Day(Date())])
        let out = f.root.appendingPathComponent("export.tar").path
        let handler = ExportHandler(storage: f.storage, control: f.control)
        let first = try await handler.export(seller, to: out, jobID: "job-1")
        let second = try await handler.export(seller, to: out, jobID: "job-1")
        #expect(first.jobID == second.jobID && first.files == second.files)
        #expect(fileMode(out) == 0o600)
        try await f.cleanup()
    }
}
