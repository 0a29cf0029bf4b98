import Domain

/// Hand-written JSON for ``JobEnvelope``, because Foundation's coders dominated a worker's CPU.
///
/// Why hand-written: profiling a no-op worker (`perf record -g` during `scripts/bench queue`)
/// showed `JSONDecoder` at 24 % of its CPU and a fresh `JSONEncoder` per job on every enqueue;
/// the local package mirror has no faster JSON library. Both directions stay tied to the
/// `Codable` conformance, which remains the reference:
///
/// - ``write(_:)`` emits exactly the members `encode(to:)` emits (same keys, in sorted order;
///   argument keys sorted as Swift strings), strings escaped per RFC 8259 §7 (`"`, `\` and
///   U+0000–U+001F; every other scalar is copied as UTF-8, which §7 allows), integers in decimal.
///   Its output is therefore JSON that `JSONDecoder` reads back to an equal envelope (tested on
///   adversarial strings), and for plain ids it is byte for byte what `JSONEncoder` with
///   `.sortedKeys` writes (tested).
/// - ``parse(_:)`` is a fast path only. It returns an envelope solely for a JSON object whose
///   members are each one of the nine known keys at most once, holding the JSON type
///   `init(from:)` asks for: strings without escapes or control characters; integers without
///   fraction, exponent or leading zero that fit the 64-bit `Int`; `args` an object of such
///   strings with no repeated key; with `v` equal to ``JobEnvelope/currentVersion``, every
///   required key present and a valid seller id. For such a text every value `init(from:)` would decode is fixed by
///   its member alone, so the result equals `JSONDecoder`'s (tested against it). For anything
///   else — escapes, `null`, unknown or repeated keys, other versions, malformed text — it
///   returns nil and ``JobEnvelope/decode(_:)`` falls back to `JSONDecoder`, so every error
///   message and edge case is still Foundation's.
enum EnvelopeJSON {
    /// The envelope as compact JSON with sorted keys.
    static func write(_ envelope: JobEnvelope) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(176 + envelope.arguments.count * 32)
        out.append(contentsOf: #"{"args":{"#.utf8)
        var first = true
        for key in envelope.arguments.keys.sorted() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(envelope.arguments[key]!, to: &out)
        }
        out.append(contentsOf: #"},"attempt":"#.utf8)
        out.append(contentsOf: String(envelope.attempt).utf8)
        out.append(contentsOf: #","deferrals":"#.utf8)
        out.append(contentsOf: String(envelope.deferrals).utf8)
        out.append(contentsOf: #","enqueued_at":"#.utf8)
        out.append(contentsOf: String(envelope.enqueuedAt).utf8)
        out.append(contentsOf: #","id":"#.utf8)
        appendString(envelope.id, to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        appendString(envelope.kind.rawValue, to: &out)
        out.append(contentsOf: #","seller":"#.utf8)
        appendString(envelope.seller.rawValue, to: &out)
        out.append(contentsOf: #","trace_id":"#.utf8)
        appendString(envelope.traceID, to: &out)
        out.append(contentsOf: #","v":"#.utf8)
        out.append(contentsOf: String(envelope.version).utf8)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The envelope, when `text` is in the simple form described above; nil means "ask JSONDecoder".
    static func parse(_ text: String) -> JobEnvelope? {
        var text = text
        return text.withUTF8 { bytes in
            var parser = Parser(bytes: bytes)
            return parser.envelope()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        private enum Key {
            case version, id, kind, seller, args, attempt, enqueuedAt, traceID, deferrals
        }

        mutating func envelope() -> JobEnvelope? {
            var version: Int?, id: String?, kind: String?, seller: String?, args: [String: String]?
            var attempt: Int?, enqueuedAt: Int?, traceID: String?, deferrals: Int?
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            skipSpace()
            if !take(UInt8(ascii: "}")) {
                repeat {
                    skipSpace()
                    guard let key = key() else { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    switch key {
                    case .version: guard version == nil, let v = integer() else { return nil }; version = v
                    case .id: guard id == nil, let v = string() else { return nil }; id = v
                    case .kind: guard kind == nil, let v = string() else { return nil }; kind = v
                    case .seller: guard seller == nil, let v = string() else { return nil }; seller = v
                    case .args: guard args == nil, let v = stringObject() else { return nil }; args = v
                    case .attempt: guard attempt == nil, let v = integer() else { return nil }; attempt = v
                    case .enqueuedAt: guard enqueuedAt == nil, let v = integer() else { return nil }; enqueuedAt = v
                    case .traceID: guard traceID == nil, let v = string() else { return nil }; traceID = v
                    case .deferrals: guard deferrals == nil, let v = integer() else { return nil }; deferrals = v
                    }
                    skipSpace()
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            skipSpace()
            guard i == bytes.count, version == JobEnvelope.currentVersion, let id, let kind, let enqueuedAt,
                  let seller = seller.flatMap(SellerID.init(rawValue:)) else { return nil }
            return JobEnvelope(version: JobEnvelope.currentVersion, id: id, kind: JobKind(rawValue: kind), seller: seller,
                               arguments: args ?? [:], attempt: attempt ?? 0, enqueuedAt: Int64(enqueuedAt),
                               traceID: traceID ?? id, deferrals: deferrals ?? 0)
        }

        private mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): i += 1
                default: return
                }
            }
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// The bytes of a string without escapes or control characters, or nil.
        private mutating func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count {
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") {
                    i += 1
                    return UnsafeBufferPointer(rebasing: bytes[start..<(i - 1)])
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        private mutating func string() -> String? {
            // The bytes lie between two ASCII quotes of a Swift string, itself valid UTF-8, so they
            // are valid UTF-8 too and decoding them cannot substitute anything.
            stringBytes().map { String(decoding: $0, as: UTF8.self) }
        }

        private mutating func key() -> Key? {
            guard let raw = stringBytes() else { return nil }
            func matches(_ name: StaticString) -> Bool {
                name.utf8CodeUnitCount == raw.count && name.withUTF8Buffer { $0.elementsEqual(raw) }
            }
            switch raw.first {
            case UInt8(ascii: "v"): return matches("v") ? .version : nil
            case UInt8(ascii: "i"): return matches("id") ? .id : nil
            case UInt8(ascii: "k"): return matches("kind") ? .kind : nil
            case UInt8(ascii: "s"): return matches("seller") ? .seller : nil
            case UInt8(ascii: "a"): return matches("args") ? .args : matches("attempt") ? .attempt : nil
            case UInt8(ascii: "e"): return matches("enqueued_at") ? .enqueuedAt : nil
            case UInt8(ascii: "t"): return matches("trace_id") ? .traceID : nil
            case UInt8(ascii: "d"): return matches("deferrals") ? .deferrals : nil
            default: return nil
            }
        }

        /// A JSON integer (`-?(0|[1-9][0-9]*)`) not followed by a fraction or exponent, or nil.
        private mutating func integer() -> Int? {
            let negative = take(UInt8(ascii: "-"))
            let start = i
            var value = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let digit = Int(bytes[i] - UInt8(ascii: "0"))
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                if o1 || o2 { return nil }
                value = next
                i += 1
            }
            let digits = i - start
            if digits == 0 || (digits > 1 && bytes[start] == UInt8(ascii: "0")) { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                return nil
            }
            return value
        }

        /// An object whose values are all strings, every key once, or nil.
        private mutating func stringObject() -> [String: String]? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var out: [String: String] = [:]
            skipSpace()
            if take(UInt8(ascii: "}")) { return out }
            repeat {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = string(), out.updateValue(value, forKey: key) == nil else { return nil }
                skipSpace()
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? out : nil
        }
    }
}
