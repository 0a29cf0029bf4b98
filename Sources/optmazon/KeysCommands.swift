import ArgumentParser
import Runtime
import SellerStore

/// `optmazon keys rotate-master`: master-key management of the encrypted store.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the master key that wraps every seller's data key.",
        subcommands: [RotateMaster.self]
    )
}

extension KeysCommand {
    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Re-wrap every seller key with a new master key (no database is rewritten).",
            discussion: """
                The current master key comes from OPTMAZON_MASTER_KEY_FILE (or OPTMAZON_MASTER_KEY). \
                The rotation is crash-safe: if it is interrupted, run it again with the same new key. \
                Afterwards restart every process with the new master key.
                """
        )

        @Option(name: .customLong("new-master-key-file"), help: "Owner-only file holding the new key (base64 of 32 bytes).")
        var newMasterKeyFile: String

        func run() async throws {
            let storage = try Stores.storage(try await WorkerRuntime.loadSettingsOrExit())
            let newKey = try MasterKey(contentsOfFile: newMasterKeyFile)
            let report = try await storage.rotateMaster(to: newKey)
            print("re-wrapped \(report.rewrapped) keys (\(report.alreadyRotated) already rotated); "
                + "new master key fingerprint \(report.newFingerprint); restart every process with the new key")
        }
    }
}
