#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLiteCrypt
import Foundation

/// A random 256-bit key that encrypts one store's pages. Only ever on disk wrapped by the master key.
struct DataKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    var description: String { "DataKey(redacted)" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A step of `rotateMaster`, reported to an injectable failure point so tests can simulate a crash.
public enum RotationStep: Sendable, Equatable {
    /// The key of one store was re-wrapped into `NAME.key.next` (old `NAME.key` untouched).
    case wrappedNext(String)
    /// Every `.next` file is durable: from here on, the new master key reads every store.
    case prepared
    /// One store's `NAME.key.next` replaced its `NAME.key`.
    case switched(String)
    /// The rotation is complete.
    case finished
}

/// What `rotateMaster` did.
public struct RotationReport: Sendable, Equatable {
    /// Keys re-wrapped by this run.
    public var rewrapped: Int
    /// Keys already wrapped by the new master key (an interrupted earlier run got that far).
    public var alreadyRotated: Int
    public var newFingerprint: String
}

/// Wrapped data keys in the key directory, one file per store, and the master-key rotation.
///
/// File `NAME.key` = `"OMZK" | version 1 | master fingerprint (8) | nonce (12) | key (32) | tag (16)`,
/// AES-256-GCM under the master key, the first 13 bytes and the store name bound as associated
/// data (a seller's wrapped key presented as another seller's fails authentication).
/// `master.id` records the fingerprint of the current master key (and of the next one while a
/// rotation is unfinished); `.lock` serialises rotation (exclusive) against creation and wipe (shared).
struct KeyStore: Sendable {
    let directory: String
    let master: MasterKey

    private static let magic: [UInt8] = Array("OMZK".utf8) + [1]
    private static let fileSize = 5 + 8 + 12 + 32 + 16

    init(directory: String, master: MasterKey) throws(SellerStoreError) {
        self.directory = directory
        self.master = master
        try FileSystem.ensurePrivateDirectory(directory, subject: nil, refuseLoose: true)
        let lock = try DirectoryLock(directory: directory, exclusive: false)
        let ids = try readMasterIDs()
        if ids.isEmpty {
            try writeMasterIDs(current: master.fingerprint, next: nil)
        } else if !ids.contains(master.fingerprint) {
            throw SellerStoreError(.masterKeyMismatch, subject: nil, operation: "refusing key directory", path: directory,
                                   reason: "it is managed by master key \(ids.joined(separator: " / ")), this process has \(master.fingerprint)")
        }
        withExtendedLifetime(lock) {}
    }

    func path(for subject: StoreSubject) -> String { "\(directory)/\(subject.fileStem).key" }

    // MARK: - Load, create, destroy

    /// The store's data key, or nil when it has none (never created, or wiped).
    func load(_ subject: StoreSubject) throws(SellerStoreError) -> DataKey? {
        let main = path(for: subject)
        guard let current = try FileSystem.read(main, subject: subject.label, limit: 4096) else { return nil }
        try FileSystem.checkPrivate(main, subject: subject.label, what: "key file")
        if let key = try unwrap(current, subject: subject, path: main, with: master) { return key }
        // An interrupted rotation: the key re-wrapped with this master key waits in `.next`.
        if let next = try FileSystem.read(main + ".next", subject: subject.label, limit: 4096),
           let key = try unwrap(next, subject: subject, path: main + ".next", with: master) {
            return key
        }
        throw SellerStoreError(.masterKeyMismatch, subject: subject.label, operation: "cannot unwrap key", path: main,
                               reason: "wrapped by master key \(Self.fingerprint(of: current)), this process has \(master.fingerprint)")
    }

    /// Loads the store's key, creating a fresh random one first if it has none and `create` is set.
    func loadOrCreate(_ subject: StoreSubject, create: Bool) throws(SellerStoreError) -> DataKey {
        if let key = try load(subject) { return key }
        guard create else {
            throw SellerStoreError(.keyNotFound, subject: subject.label, operation: "no data key", path: path(for: subject),
                                   reason: "the store was never created or has been wiped")
        }
        let lock = try acquireLock(exclusive: false)
        defer { withExtendedLifetime(lock) {} }
        do {
            guard try readMasterIDs().contains(master.fingerprint) else {
                throw SellerStoreError(.masterKeyMismatch, subject: subject.label, operation: "cannot create key", path: directory,
                                       reason: "the master key was rotated away from \(master.fingerprint); restart with the new key")
            }
            var bytes = [UInt8](repeating: 0, count: 32)
            guard sqlcrypt_random(&bytes, 32) == 0 else {
                throw SellerStoreError(.io, subject: subject.label, operation: "cannot create key", reason: "no randomness")
            }
            let file = try wrap(DataKey(bytes: bytes), subject: subject, with: master)
            if try FileSystem.writeDurably(file, to: path(for: subject), subject: subject.label, exclusive: true) {
                return DataKey(bytes: bytes)
            }
            // Another process created it first: use theirs.
            guard let key = try load(subject) else {
                throw SellerStoreError(.keyNotFound, subject: subject.label, operation: "cannot create key", path: path(for: subject), reason: "it vanished while being created")
            }
            return key
        }
    }

    /// Crypto-shred: overwrites and deletes the wrapped key files, then fsyncs the directory.
    func destroy(_ subject: StoreSubject) throws(SellerStoreError) {
        let lock = try acquireLock(exclusive: false)
        defer { withExtendedLifetime(lock) {} }
        let main = path(for: subject)
        try FileSystem.shred(main + ".next", subject: subject.label)
        try FileSystem.shred(main, subject: subject.label)
        try FileSystem.fsyncDirectory(directory, subject: subject.label)
    }

    /// Names (`seller-ID`, `control`) of every store that has a key.
    func storedSubjects() throws(SellerStoreError) -> [StoreSubject] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SellerStoreError(.io, subject: nil, operation: "cannot list", path: directory, reason: error.localizedDescription)
        }
        return names.filter { $0.hasSuffix(".key") }.sorted().compactMap { name in
            let stem = String(name.dropLast(4))
            if stem == "control" { return .control }
            if stem.hasPrefix("seller-") { return .seller(String(stem.dropFirst(7))) }
            return nil
        }
    }

    // MARK: - Rotation

    /// Re-wraps every store key with `newMaster`, crash-safely and without touching any database.
    ///
    /// Phase 1 writes `NAME.key.next` (new master) beside each `NAME.key` (old master) and makes
    /// them durable; phase 2 renames each `.next` over its `.key`. Killed in phase 1, every store
    /// is readable with the old key; killed after it, with the new key (and with the old one for
    /// stores not yet switched). Running the rotation again finishes it.
    func rotate(to newMaster: MasterKey, failpoint: (RotationStep) throws -> Void) throws -> RotationReport {
        guard newMaster.fingerprint != master.fingerprint else {
            throw SellerStoreError(.invalidValue, subject: nil, operation: "cannot rotate master key",
                                   reason: "the new master key is the current one")
        }
        let lock = try acquireLock(exclusive: true)
        defer { withExtendedLifetime(lock) {} }
        do {
            // Leftovers of a write killed before its rename are never read; clear them.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.contains(".tmp-") {
                try FileSystem.remove("\(directory)/\(name)", subject: nil)
            }
            try writeMasterIDs(current: master.fingerprint, next: newMaster.fingerprint)
            var report = RotationReport(rewrapped: 0, alreadyRotated: 0, newFingerprint: newMaster.fingerprint)
            let subjects = try storedSubjects()
            var pending: [StoreSubject] = []
            for subject in subjects {
                let main = path(for: subject)
                guard let current = try FileSystem.read(main, subject: subject.label, limit: 4096) else { continue }
                if Self.fingerprint(of: current) == newMaster.fingerprint {
                    _ = try unwrap(current, subject: subject, path: main, with: newMaster)
                    try FileSystem.remove(main + ".next", subject: subject.label)
                    report.alreadyRotated += 1
                    continue
                }
                guard let key = try unwrap(current, subject: subject, path: main, with: master) else {
                    throw SellerStoreError(.masterKeyMismatch, subject: subject.label, operation: "cannot rotate key", path: main,
                                           reason: "wrapped by master key \(Self.fingerprint(of: current)), neither the current (\(master.fingerprint)) nor the new one")
                }
                try FileSystem.writeDurably(try wrap(key, subject: subject, with: newMaster), to: main + ".next",
                                            subject: subject.label, syncDirectory: false)
                pending.append(subject)
                try failpoint(.wrappedNext(subject.fileStem))
            }
            try FileSystem.fsyncDirectory(directory, subject: nil)
            try failpoint(.prepared)
            for subject in pending {
                let main = path(for: subject)
                guard rename(main + ".next", main) == 0 else {
                    throw SellerStoreError(.io, subject: subject.label, operation: "cannot rename", path: main + ".next", reason: FileSystem.errnoText())
                }
                report.rewrapped += 1
                try failpoint(.switched(subject.fileStem))
            }
            try FileSystem.fsyncDirectory(directory, subject: nil)
            try writeMasterIDs(current: newMaster.fingerprint, next: nil)
            try failpoint(.finished)
            return report
        }
    }

    // MARK: - Wrapping

    private func wrap(_ key: DataKey, subject: StoreSubject, with master: MasterKey) throws(SellerStoreError) -> [UInt8] {
        let header = Self.magic + master.fingerprintBytes
        let aad = header + Array("|\(subject.fileStem)".utf8)
        var nonce = [UInt8](repeating: 0, count: 12)
        var ct = [UInt8](repeating: 0, count: 32)
        var tag = [UInt8](repeating: 0, count: 16)
        guard sqlcrypt_seal(master.bytes, aad, aad.count, key.bytes, 32, &nonce, &ct, &tag) == 0 else {
            throw SellerStoreError(.io, subject: subject.label, operation: "cannot wrap key", reason: "OpenSSL failure")
        }
        return header + nonce + ct + tag
    }

    /// Unwraps with `master`; nil when the file names another master key; throws when it is damaged.
    private func unwrap(_ file: [UInt8], subject: StoreSubject, path: String, with master: MasterKey) throws(SellerStoreError) -> DataKey? {
        guard file.count == Self.fileSize, Array(file[0..<5]) == Self.magic else {
            throw SellerStoreError(.invalidKeyFile, subject: subject.label, operation: "cannot unwrap key", path: path,
                                   reason: "not an OptMazon wrapped key file")
        }
        guard Array(file[5..<13]) == master.fingerprintBytes else { return nil }
        let aad = Array(file[0..<13]) + Array("|\(subject.fileStem)".utf8)
        var out = [UInt8](repeating: 0, count: 32)
        let ok = sqlcrypt_open(master.bytes, aad, aad.count, Array(file[13..<25]), Array(file[25..<57]), 32,
                               Array(file[57..<73]), &out) == 0
        guard ok else {
            throw SellerStoreError(.invalidKeyFile, subject: subject.label, operation: "cannot unwrap key", path: path,
                                   reason: "authentication failed (tampered, or the key file of another store)")
        }
        return DataKey(bytes: out)
    }

    private static func fingerprint(of file: [UInt8]) -> String {
        guard file.count >= 13 else { return "?" }
        return file[5..<13].map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - master.id and lock

    private var masterIDPath: String { "\(directory)/master.id" }

    private func readMasterIDs() throws(SellerStoreError) -> [String] {
        guard let raw = try FileSystem.read(masterIDPath, subject: nil, limit: 4096) else { return [] }
        return String(decoding: raw, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? String(parts[1]) : nil
        }
    }

    private func writeMasterIDs(current: String, next: String?) throws(SellerStoreError) {
        var text = "current=\(current)\n"
        if let next { text += "next=\(next)\n" }
        try FileSystem.writeDurably(Array(text.utf8), to: masterIDPath, subject: nil)
    }

    /// Holds `.lock` with flock until `release()`: rotation exclusive, creation and wipe shared.
    private final class DirectoryLock {
        let fd: Int32

        init(directory: String, exclusive: Bool) throws(SellerStoreError) {
            let lockPath = "\(directory)/.lock"
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw SellerStoreError(.io, subject: nil, operation: "cannot open lock", path: lockPath, reason: FileSystem.errnoText())
            }
            while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
                if errno != EINTR {
                    let reason = FileSystem.errnoText()
                    close(fd)
                    throw SellerStoreError(.io, subject: nil, operation: "cannot lock", path: lockPath, reason: reason)
                }
            }
            self.fd = fd
        }

        deinit { close(fd) }
    }

    private func acquireLock(exclusive: Bool) throws(SellerStoreError) -> DirectoryLock {
        try DirectoryLock(directory: directory, exclusive: exclusive)
    }
}
