import ArgumentParser
import Domain
import Foundation
import JobQueue
import Privacy
import Runtime
import SellerStore

// Privacy operations of the operator CLI (issue 6): deletion requests, revocation, receipts and
// exports. The janitor (`optmazon-janitor`) does the work; these commands record the request and
// enqueue its job.

/// `optmazon wipe --seller ID --reason TEXT`: a seller's deletion request, acted on at once.
struct WipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wipe",
        abstract: "Delete all data of a seller now (deletion request): revoke it and enqueue an immediate wipe.",
        discussion: "The janitor destroys the seller's key and files, drops its queued jobs, reduces its registry entry to id, status and wipe time, and writes a deletion receipt (`optmazon receipts show ID`).")

    @Option(help: "Seller id (selling_partner_id).")
    var seller: String

    @Option(help: "Why (a ticket or e-mail reference; kept in the receipt). Never paste seller data here.")
    var reason: String

    func validate() throws {
        _ = try SellersCommand.parseSellerID(seller)
        guard !PrivacyJobs.cleanReason(reason).isEmpty else { throw ValidationError("--reason must not be empty") }
    }

    func run() async throws {
        let id = try SellersCommand.parseSellerID(seller)
        let note = PrivacyJobs.cleanReason(reason)
        let state = try await SellersCommand.withControlStore { control in try await PrivacyCLI.prepareWipe(id, control: control, note: "deletion requested: \(note)") }
        if case let .alreadyWiped(receipt) = state {
            printLine("seller \(id) was already wiped\(receipt.map { "; receipt \($0)" } ?? "")")
            return
        }
        try await PrivacyCLI.enqueueWipe(id, trigger: .deletionRequest, reason: note)
    }
}

/// `optmazon sellers revoke ID`: marks a seller revoked and enqueues its wipe (register under `sellers`).
struct RevokeSellerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Mark a seller revoked: nothing more is fetched and the janitor wipes its data.")

    @Argument(help: "Seller id.")
    var seller: String

    @Option(help: "Why (kept in the audit log and the receipt).")
    var reason = "revoked by an operator"

    func validate() throws {
        _ = try SellersCommand.parseSellerID(seller)
    }

    func run() async throws {
        let id = try SellersCommand.parseSellerID(seller)
        let note = PrivacyJobs.cleanReason(reason)
        let state = try await SellersCommand.withControlStore { control in try await PrivacyCLI.prepareWipe(id, control: control, note: note) }
        if case let .alreadyWiped(receipt) = state {
            printLine("seller \(id) was already wiped\(receipt.map { "; receipt \($0)" } ?? "")")
            return
        }
        try await PrivacyCLI.enqueueWipe(id, trigger: .revocation, reason: note)
    }
}

/// `optmazon receipts show ID`: prints a deletion receipt for the operator to send to the seller.
struct ReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts", abstract: "Deletion receipts written by the janitor.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the deletion receipt of a seller (its latest) or a receipt id.")

        @Argument(help: "Seller id or receipt id (DR-...).")
        var id: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let target = id
            let receipt = try await SellersCommand.withControlStore { control -> DeletionReceipt? in
                if let byID = try await control.deletionReceipt(id: target) { return byID }
                guard let seller = SellerID(rawValue: target) else { return nil }
                return try await control.deletionReceipts(for: seller).first
            }
            guard let receipt else {
                throw InvalidValue("no deletion receipt for '\(target.prefix(80))' (the wipe may not have run yet: is optmazon-janitor running?)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                printLine(String(decoding: try encoder.encode(receipt), as: UTF8.self))
                return
            }
            for line in PrivacyCLI.render(receipt) { printLine(line) }
        }
    }
}

/// `optmazon export --seller ID --out FILE`: has the janitor write the seller's data archive to FILE.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a copy of all data held for a seller (tar: one JSON file per table and a manifest with SHA-256s), owner-only.",
        discussion: "The janitor writes FILE on its own machine (run this where optmazon-janitor runs). The command waits until FILE exists and checks its manifest, or reports why it was not written.")

    @Option(help: "Seller id.")
    var seller: String

    @Option(help: "Archive to create (a tar file); must not exist.")
    var out: String

    @Option(help: "Seconds to wait for the janitor.")
    var timeout: Double = 600

    func validate() throws {
        _ = try SellersCommand.parseSellerID(seller)
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let id = try SellersCommand.parseSellerID(seller)
        let path = URL(fileURLWithPath: out).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InvalidValue("the directory of --out \(path) does not exist")
        }
        guard !FileManager.default.fileExists(atPath: path) else { throw InvalidValue("--out \(path) already exists; choose a new file") }
        _ = try await SellersCommand.withControlStore { control in try await control.seller(id) }
        let queue = try await openQueue()
        let job = PrivacyJobs.export(id, to: path)
        _ = try await queue.enqueue(job)
        printLine("enqueued export job \(job.id) for seller \(id); waiting for the janitor to write \(path)")
        let deadline = Date().addingTimeInterval(timeout)
        var lastDeadCheck = Date.distantPast
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: path) {
                guard let manifest = await ExportHandler.manifest(at: path), manifest.jobID == job.id else {
                    throw CommandFailure("\(path) appeared but is not the archive of job \(job.id)")
                }
                let rows = manifest.files.reduce(0) { $0 + $1.rows }
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                printLine("wrote \(path): \(size) bytes, \(manifest.files.count) files, \(rows) rows (manifest: \(ExportHandler.manifestPath))")
                return
            }
            if Date().timeIntervalSince(lastDeadCheck) >= 2 {
                lastDeadCheck = Date()
                if let dead = try await queue.deadJobs(limit: 100_000).first(where: { $0.jobID == job.id }) {
                    throw CommandFailure("the janitor could not write the export: \(dead.reason)")
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CommandFailure("\(path) was not written within \(Int(timeout))s: is optmazon-janitor running? Job \(job.id) stays queued and will still write it.")
    }
}

/// Helpers shared by the privacy commands, and the overdue-wipe lines for `optmazon status`.
enum PrivacyCLI {
    enum WipeState {
        case ready
        case alreadyWiped(receipt: String?)
    }

    /// Marks the seller revoked (recording `note` in the audit log) unless already wiped.
    static func prepareWipe(_ id: SellerID, control: ControlStore, note: String) async throws -> WipeState {
        if try await control.wipedSeller(id) != nil, (try? await control.seller(id)) == nil {
            return .alreadyWiped(receipt: try await control.deletionReceipts(for: id).first?.receiptID)
        }
        let entry = try await control.seller(id)
        if entry.status != .revoked {
            try await control.setStatus(of: id, to: .revoked)
        }
        try await control.recordAudit(id, .revoke, detail: note)
        return .ready
    }

    static func enqueueWipe(_ id: SellerID, trigger: PrivacyJobs.WipeTrigger, reason: String) async throws {
        let queue = try await openQueue()
        let job = PrivacyJobs.wipe(id, trigger: trigger, reason: reason)
        switch try await queue.enqueue(job, at: nil, uniqueKey: PrivacyJobs.wipeKey(id), uniqueFor: 3600) {
        case let .enqueued(jobID):
            printLine("seller \(id) revoked; enqueued wipe job \(jobID). `optmazon receipts show \(id)` prints the receipt once the janitor has run.")
        case .duplicate:
            printLine("seller \(id) revoked; a wipe job is already queued. `optmazon receipts show \(id)` prints the receipt once the janitor has run.")
        }
    }

    static func render(_ r: DeletionReceipt) -> [String] {
        var lines = [
            "Deletion receipt \(r.receiptID)",
            "Seller:           \(r.sellerID)",
            "Trigger:          \(r.trigger)",
            "Reason:           \(r.reason.isEmpty ? "-" : r.reason)",
            "Started:          \(r.startedAt.formatted(.iso8601))",
            "Completed:        \(r.completedAt.formatted(.iso8601))",
            "Key fingerprint:  \(r.keyFingerprint ?? "no key was held")",
            "Destroyed:",
        ]
        lines += r.destroyed.map { "  - \($0)" }
        return lines
    }

    /// The overdue-wipe section of `optmazon status` (revoked sellers still holding data a day after revocation).
    static func overdueWipeLines(now: Date = Date()) async throws -> [String] {
        try await SellersCommand.withControlStore { control in
            WipeMonitor.statusLines(try await WipeMonitor.overdue(in: control, now: now), now: now)
        }
    }
}
