#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLiteCrypt
import Foundation

/// Small POSIX helpers: owner-only creation, fsync of files and directories, permission checks.
///
/// Foundation's file APIs neither fsync nor let us pick the creation mode atomically, and the
/// store's guarantees (crash-safe key rotation, crypto-shredding, 0600/0700) depend on both.
enum FileSystem {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Creates `path` as a 0700 directory (with missing parents) or checks the existing one.
    static func ensurePrivateDirectory(_ path: String, subject: String?, refuseLoose: Bool) throws(SellerStoreError) {
        var st = stat()
        if stat(path, &st) != 0 {
            // The directory itself is made 0700 by mkdir, never created open and tightened later: another process
            // starting at the same moment must not find it loose (and refuse to start) in between.
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty {
                try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
            if mkdir(path, 0o700) == 0 {
                guard chmod(path, 0o700) == 0 else { // a umask may have taken the owner's own bits
                    throw SellerStoreError(.io, subject: subject, operation: "cannot chmod", path: path, reason: errnoText())
                }
                return
            }
            guard errno == EEXIST, stat(path, &st) == 0 else {
                throw SellerStoreError(.io, subject: subject, operation: "cannot create directory", path: path, reason: errnoText())
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot use directory", path: path, reason: "not a directory")
        }
        if refuseLoose {
            try checkPrivate(path, st: st, subject: subject, what: "directory")
        }
    }

    /// Refuses a file or directory that other users can access or that another user owns.
    static func checkPrivate(_ path: String, subject: String?, what: String) throws(SellerStoreError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot stat", path: path, reason: errnoText())
        }
        try checkPrivate(path, st: st, subject: subject, what: what)
    }

    private static func checkPrivate(_ path: String, st: stat, subject: String?, what: String) throws(SellerStoreError) {
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw SellerStoreError(.insecurePermissions, subject: subject, operation: "refusing \(what)", path: path,
                                   reason: "mode \(String(mode, radix: 8)) lets other users in; chmod \(what == "directory" ? "700" : "600") it")
        }
        if st.st_uid != geteuid() {
            throw SellerStoreError(.insecurePermissions, subject: subject, operation: "refusing \(what)", path: path,
                                   reason: "owned by uid \(st.st_uid), not by this process (uid \(geteuid()))")
        }
    }

    /// Creates an empty 0600 file if missing, and forces 0600 on an existing one.
    ///
    /// An existing file is not opened: closing any descriptor of a file drops every POSIX lock this process holds
    /// on it, so opening a second store of an open database would silently unlock the first one's connections.
    static func ensurePrivateFile(_ path: String, subject: String?) throws(SellerStoreError) {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            defer { close(fd) }
            guard fchmod(fd, 0o600) == 0 else {
                throw SellerStoreError(.io, subject: subject, operation: "cannot chmod", path: path, reason: errnoText())
            }
            return
        }
        guard errno == EEXIST else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot create", path: path, reason: errnoText())
        }
        guard chmod(path, 0o600) == 0 else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot chmod", path: path, reason: errnoText())
        }
    }

    /// Writes `bytes` to `path` atomically and durably: temp file (0600), fsync, rename (or, when
    /// `exclusive`, link: fails with `false` if `path` already exists), then fsync the directory.
    @discardableResult
    static func writeDurably(_ bytes: [UInt8], to path: String, subject: String?, exclusive: Bool = false,
                             syncDirectory: Bool = true) throws(SellerStoreError) -> Bool {
        var suffix = [UInt8](repeating: 0, count: 6)
        _ = sqlcrypt_random(&suffix, suffix.count)
        let tmp = path + ".tmp-\(getpid())-" + suffix.map { String(format: "%02x", $0) }.joined()
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot create", path: tmp, reason: errnoText())
        }
        var ok = fchmod(fd, 0o600) == 0
        if ok {
            ok = bytes.withUnsafeBytes { raw in
                var off = 0
                while off < raw.count {
                    let n = write(fd, raw.baseAddress! + off, raw.count - off)
                    if n <= 0 { return false }
                    off += n
                }
                return true
            }
        }
        if ok { ok = fsync(fd) == 0 }
        let err = errnoText()
        close(fd)
        guard ok else {
            unlink(tmp)
            throw SellerStoreError(.io, subject: subject, operation: "cannot write", path: tmp, reason: err)
        }
        if exclusive {
            if link(tmp, path) != 0 {
                let code = errno
                let err = errnoText()
                unlink(tmp)
                if code == EEXIST { return false }
                throw SellerStoreError(.io, subject: subject, operation: "cannot create", path: path, reason: err)
            }
            unlink(tmp)
        } else if rename(tmp, path) != 0 {
            let err = errnoText()
            unlink(tmp)
            throw SellerStoreError(.io, subject: subject, operation: "cannot rename", path: tmp, reason: err)
        }
        if syncDirectory { try fsyncDirectory((path as NSString).deletingLastPathComponent, subject: subject) }
        return true
    }

    /// Reads a whole (small) file; nil when it does not exist.
    static func read(_ path: String, subject: String?, limit: Int = 1 << 20) throws(SellerStoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SellerStoreError(.io, subject: subject, operation: "cannot read", path: path, reason: errnoText())
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw SellerStoreError(.io, subject: subject, operation: "cannot read", path: path, reason: errnoText()) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw SellerStoreError(.io, subject: subject, operation: "cannot read", path: path, reason: "file larger than \(limit) bytes")
            }
        }
        return out
    }

    static func fsyncDirectory(_ path: String, subject: String?) throws(SellerStoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot open directory", path: path, reason: errnoText())
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw SellerStoreError(.io, subject: subject, operation: "cannot fsync directory", path: path, reason: errnoText())
        }
    }

    /// Overwrites a file's bytes with zeros and fsyncs, then unlinks it. Missing files are fine.
    ///
    /// Overwriting is a best effort (copy-on-write file systems and SSDs may keep old blocks); the
    /// guarantee comes from the key being gone, the data having only ever been written encrypted.
    static func shred(_ path: String, subject: String?) throws(SellerStoreError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            var st = stat()
            if fstat(fd, &st) == 0, st.st_size > 0 {
                let zeros = [UInt8](repeating: 0, count: Int(st.st_size))
                _ = zeros.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                _ = fsync(fd)
            }
            close(fd)
        }
        try remove(path, subject: subject)
    }

    static func remove(_ path: String, subject: String?) throws(SellerStoreError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw SellerStoreError(.io, subject: subject, operation: "cannot delete", path: path, reason: errnoText())
        }
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}
