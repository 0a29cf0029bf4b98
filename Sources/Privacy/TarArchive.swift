import Foundation

/// A POSIX ustar archive built in memory: regular files only, owner-only modes.
///
/// Hand-written because no tar or zip library is among the project's dependencies and the format
/// needed is tiny (a 512-byte header per file, data padded to 512 bytes, two zero blocks at the
/// end); any `tar` reads it. Written by hand, the archive goes to a file descriptor we open
/// ourselves (`O_EXCL`, mode 0600), which a library writing by path would not let us do.
struct TarArchive {
    private(set) var bytes: [UInt8] = []

    /// Appends one regular file; `name` must be at most 100 bytes of ASCII.
    mutating func append(name: String, contents: [UInt8], modified: Date) {
        precondition(name.utf8.count <= 100 && name.allSatisfy(\.isASCII), "tar member name too long or not ASCII")
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (i, byte) in text.utf8.enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(name, at: 0)
        put(octal(0o600, width: 8), at: 100)
        put(octal(Int(getuid()), width: 8), at: 108)
        put(octal(Int(getgid()), width: 8), at: 116)
        put(octal(contents.count, width: 12), at: 124)
        put(octal(max(0, Int(modified.timeIntervalSince1970)), width: 12), at: 136)
        put("        ", at: 148)
        header[156] = UInt8(ascii: "0")
        put("ustar", at: 257)
        put("00", at: 263)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7), at: 148)
        header[155] = UInt8(ascii: " ")
        bytes += header
        bytes += contents
        let padding = (512 - contents.count % 512) % 512
        bytes += [UInt8](repeating: 0, count: padding)
    }

    /// The archive with its end-of-archive marker.
    func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 1024)
    }
}

/// Writing a file owner-only and atomically, off the cooperative thread pool.
enum PrivateFile {
    /// Writes `bytes` to `path` with mode 0600, never replacing an existing file: the data goes to
    /// a temporary file in the same directory (created `O_EXCL`), is fsynced, then hard-linked to
    /// `path` (which fails if `path` exists) and the directory fsynced. Readers see a complete file or none.
    static func writeNew(_ bytes: [UInt8], to path: String, temporarySuffix: String) async throws(FileWriteError) {
        let result: Result<Void, FileWriteError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: Result { () throws(FileWriteError) in try writeNewBlocking(bytes, to: path, temporarySuffix: temporarySuffix) })
            }
        }
        try result.get()
    }

    struct FileWriteError: Error, Sendable, CustomStringConvertible {
        let path: String
        let step: String
        let reason: String
        var alreadyExists = false
        /// A missing directory or a permission problem: retrying cannot help.
        var permanent: Bool { alreadyExists || [ENOENT, ENOTDIR, EACCES, EPERM, EROFS].contains(code) }
        var code: Int32 = 0
        var description: String { "cannot \(step) \(path): \(reason)" }
    }

    private static func writeNewBlocking(_ bytes: [UInt8], to path: String, temporarySuffix: String) throws(FileWriteError) {
        func fail(_ step: String, _ file: String, exists: Bool = false) -> FileWriteError {
            FileWriteError(path: file, step: step, reason: String(cString: strerror(errno)), alreadyExists: exists, code: errno)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".partial-" + temporarySuffix
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("create", temporary) }
        var ok = fchmod(fd, 0o600) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false } else { offset += n }
        }
        if ok { ok = fsync(fd) == 0 }
        let error = ok ? nil : fail("write", temporary)
        close(fd)
        if let error {
            unlink(temporary)
            throw error
        }
        guard link(temporary, path) == 0 else {
            let error = fail("create", path, exists: errno == EEXIST)
            unlink(temporary)
            throw error
        }
        unlink(temporary)
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}
