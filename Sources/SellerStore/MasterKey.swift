import CSQLiteCrypt
public import Foundation

/// The 256-bit master key that wraps every seller's data key. Its description never shows it.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    /// Short public identifier of the key (first 8 bytes of a SHA-256), stored in wrapped key files.
    public let fingerprint: String
    let fingerprintBytes: [UInt8]

    /// Wraps 32 raw bytes.
    public init(bytes: [UInt8]) throws(SellerStoreError) {
        guard bytes.count == 32 else {
            throw SellerStoreError(.masterKey, subject: nil, operation: "invalid master key",
                                   reason: "it must be 32 bytes (256 bits), got \(bytes.count)")
        }
        self.bytes = bytes
        var digest = [UInt8](repeating: 0, count: 32)
        let label = Array("optmazon-master-fingerprint-v1".utf8) + bytes
        _ = sqlcrypt_sha256(label, label.count, &digest)
        fingerprintBytes = Array(digest.prefix(8))
        fingerprint = fingerprintBytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Parses the base64 form of 32 bytes (as in `OPTMAZON_MASTER_KEY`); surrounding whitespace is ignored.
    public init(base64: String, source: String = "OPTMAZON_MASTER_KEY") throws(SellerStoreError) {
        let text = base64.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text), data.count == 32 else {
            throw SellerStoreError(.masterKey, subject: nil, operation: "invalid master key in \(source)",
                                   reason: "expected the base64 encoding of 32 random bytes (e.g. `openssl rand -base64 32`)")
        }
        try self.init(bytes: Array(data))
    }

    /// Reads a master-key file holding base64 text or 32 raw bytes; refuses a file others can read.
    public init(contentsOfFile path: String) throws(SellerStoreError) {
        let path = FileSystem.absolute(path)
        try FileSystem.checkPrivate(path, subject: nil, what: "master-key file")
        guard let raw = try FileSystem.read(path, subject: nil, limit: 4096) else {
            throw SellerStoreError(.masterKey, subject: nil, operation: "cannot read master-key file", path: path, reason: "no such file")
        }
        if raw.count == 32 {
            try self.init(bytes: raw)
        } else {
            try self.init(base64: String(decoding: raw, as: UTF8.self), source: path)
        }
    }

    /// A fresh random key, for tests, demos and `keys rotate-master` preparation.
    public static func generate() -> MasterKey {
        var bytes = [UInt8](repeating: 0, count: 32)
        precondition(sqlcrypt_random(&bytes, 32) == 0, "OpenSSL RAND_bytes failed")
        return try! MasterKey(bytes: bytes)
    }

    /// The key as base64, to write a key file. Handle the result as a secret.
    public func base64EncodedSecret() -> String { Data(bytes).base64EncodedString() }

    public var description: String { "MasterKey(fingerprint: \(fingerprint))" }
    public var debugDescription: String { description }
    /// `dump()` and debuggers see the fingerprint only.
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint]) }
}

/// Where the store keeps its files, and the master key, as configured for this process.
public struct StoreLocations: Sendable {
    /// Directory of the encrypted databases (`seller-ID.sqlite`, `control.sqlite`).
    public var dataDirectory: String
    /// Directory of the wrapped data keys (`seller-ID.key`, `control.key`); must be owner-only.
    public var keyDirectory: String
    public var masterKey: MasterKey

    public init(dataDirectory: String, keyDirectory: String, masterKey: MasterKey) {
        self.dataDirectory = FileSystem.absolute(dataDirectory)
        self.keyDirectory = FileSystem.absolute(keyDirectory)
        self.masterKey = masterKey
    }

    /// Reads `OPTMAZON_DATA_DIR`, `OPTMAZON_KEY_DIR` and `OPTMAZON_MASTER_KEY_FILE` (or
    /// `OPTMAZON_MASTER_KEY`, base64); throws a one-line error naming what is missing or wrong.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(SellerStoreError) -> StoreLocations {
        func required(_ name: String) throws(SellerStoreError) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw SellerStoreError(.configuration, subject: nil, operation: "missing configuration",
                                       reason: "set \(name)")
            }
            return value
        }
        let data = try required("OPTMAZON_DATA_DIR")
        let keys = try required("OPTMAZON_KEY_DIR")
        let key: MasterKey
        if let file = environment["OPTMAZON_MASTER_KEY_FILE"], !file.isEmpty {
            key = try MasterKey(contentsOfFile: file)
        } else if let inline = environment["OPTMAZON_MASTER_KEY"], !inline.isEmpty {
            key = try MasterKey(base64: inline)
        } else {
            throw SellerStoreError(.masterKey, subject: nil, operation: "missing configuration",
                                   reason: "set OPTMAZON_MASTER_KEY_FILE (or OPTMAZON_MASTER_KEY, base64 of 32 bytes)")
        }
        if FileSystem.absolute(data) == FileSystem.absolute(keys) {
            throw SellerStoreError(.configuration, subject: nil, operation: "invalid configuration",
                                   reason: "OPTMAZON_KEY_DIR must differ from OPTMAZON_DATA_DIR")
        }
        return StoreLocations(dataDirectory: data, keyDirectory: keys, masterKey: key)
    }
}
