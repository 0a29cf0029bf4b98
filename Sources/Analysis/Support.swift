import Domain

/// Deterministic ids: FNV-1a 64 over the parts, so the same finding on the same day keeps its id across runs.
///
/// Hand-written because it is ten lines and must not depend on `Hasher`, which is seeded per process.
public enum StableID {
    /// The 16-hex-digit FNV-1a 64 hash of `parts` joined by a unit separator.
    public static func make(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (index, part) in parts.enumerated() {
            if index > 0 { hash = (hash ^ 0x1F) &* 0x0000_0100_0000_01B3 }
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Locale-free number formatting so evidence reads the same on every machine.
enum Fmt {
    /// `x` with `decimals` digits after the point, rounded half away from zero.
    static func num(_ x: Double, _ decimals: Int = 2) -> String {
        guard x.isFinite else { return x.isNaN ? "n/a" : (x > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return String(x) }
        let units = Int64(scaled)
        let sign = x < 0 && units != 0 ? "-" : ""
        let whole = units / Int64(scale)
        guard decimals > 0 else { return sign + String(whole) }
        let frac = String(units % Int64(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - frac.count) + frac
    }

    /// A fraction 0–1 as a percent with one decimal, e.g. `0.0765` → `7.7%`.
    static func pct(_ fraction: Double) -> String { num(fraction * 100, 1) + "%" }

    /// A money amount with two decimals and its currency code.
    static func money(_ x: Double, _ currency: String = "") -> String {
        currency.isEmpty ? num(x, 2) : num(x, 2) + " " + currency
    }
}

/// Word-level text helpers shared by the listing rules, keyword gap and rewriter.
enum Text {
    /// Articles, prepositions and conjunctions: exempt from the title repeat rule (§2.1 [2][3]) and
    /// the stop words backend terms should not spend bytes on (§2.1 [14][17]).
    static let exemptWords: Set<String> = [
        "a", "an", "the",
        "about", "above", "across", "after", "against", "along", "among", "around", "as", "at", "before", "behind",
        "below", "beneath", "beside", "between", "beyond", "by", "down", "during", "except", "for", "from", "in",
        "inside", "into", "near", "of", "off", "on", "onto", "out", "outside", "over", "per", "since", "through",
        "to", "toward", "towards", "under", "until", "up", "upon", "via", "with", "within", "without",
        "and", "but", "or", "nor", "yet", "so", "if", "than", "because", "while", "although", "though", "both",
        "either", "neither", "whether", "&",
    ]

    /// Lowercased words: runs of letters, digits and combining marks; everything else separates.
    ///
    /// Walks Unicode scalars with an ASCII fast path: `Character.isLetter` costs a grapheme break and a
    /// property lookup per character, which dominated the 2,000-listing benchmark.
    static func words(_ s: String) -> [String] {
        var out: [String] = []
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            var buffer: [UInt8] = []
            buffer.reserveCapacity(24)
            for b in s.utf8 {
                if (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) {
                    buffer.append(b)
                } else if b >= 0x41 && b <= 0x5A {
                    buffer.append(b + 0x20)
                } else if !buffer.isEmpty {
                    out.append(String(decoding: buffer, as: UTF8.self))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if !buffer.isEmpty { out.append(String(decoding: buffer, as: UTF8.self)) }
            return out
        }
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty {
                out.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        for u in s.unicodeScalars {
            let v = u.value
            if v < 0x80 {
                if (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) {
                    current.append(u)
                } else if v >= 0x41 && v <= 0x5A {
                    current.append(Unicode.Scalar(UInt8(v + 0x20)))
                } else {
                    flush()
                }
            } else {
                let p = u.properties
                if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark {
                    current.append(contentsOf: p.lowercaseMapping.unicodeScalars)
                } else {
                    flush()
                }
            }
        }
        flush()
        return out
    }

    /// Singular form used for matching, so `bottles` covers `bottle` (Amazon matches both, §2.1 [14]).
    static func stem(_ word: String) -> String {
        let b = Array(word.utf8)
        let n = b.count
        guard n > 3, !b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return word }
        func ends(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard n >= count else { return false }
            return suffix.withUTF8Buffer { s in (0..<count).allSatisfy { b[n - count + $0] == s[$0] } }
        }
        if ends("ies") { return String(decoding: b[..<(n - 3)], as: UTF8.self) + "y" }
        if ends("sses") || ends("shes") || ends("ches") || ends("xes") { return String(decoding: b[..<(n - 2)], as: UTF8.self) }
        if ends("s"), !ends("ss"), !ends("us") { return String(decoding: b[..<(n - 1)], as: UTF8.self) }
        return word
    }

    /// Whether `needle` occurs in `haystack` (byte-wise; both already lowercased).
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, n.count <= haystack.count else { return n.isEmpty }
        for start in 0...(haystack.count - n.count) where haystack[start] == n[0] {
            if haystack[start..<(start + n.count)].elementsEqual(n) { return true }
        }
        return false
    }

    /// Whether `phrase` (already lowercased words) occurs as a run of whole words in `words`.
    static func contains(_ words: [String], phrase: [String]) -> Bool {
        guard !phrase.isEmpty, phrase.count <= words.count else { return false }
        for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
            var matched = true
            for offset in 1..<phrase.count where words[start + offset] != phrase[offset] {
                matched = false
                break
            }
            if matched { return true }
        }
        return false
    }

    /// A lowercased word that looks like an ASIN (`B0` and eight letters or digits).
    static func isASIN(_ word: String) -> Bool {
        let bytes = Array(word.utf8)
        guard bytes.count == 10, bytes[0] == UInt8(ascii: "b"), bytes[1] == UInt8(ascii: "0") else { return false }
        return bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }
    }

    /// The first `limit` characters of `s`, cut back to the last whole word.
    static func truncate(_ s: String, toCharacters limit: Int) -> String {
        guard s.count > limit else { return s }
        let cut = String(s.prefix(limit))
        if let space = cut.lastIndex(of: " ") { return String(cut[..<space]).trimmingTrailing() }
        return cut
    }

    /// Collapses runs of whitespace to one space and trims both ends.
    static func squeeze(_ s: String) -> String {
        var previousSpace = true
        var clean = true
        for b in s.utf8 {
            if b >= 0x80 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C || (b == 0x20 && previousSpace) {
                clean = false
                break
            }
            previousSpace = b == 0x20
        }
        if clean, !previousSpace || s.isEmpty { return s }
        return s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while let last = s.last, last.isWhitespace || last == "," || last == "-" || last == ";" { s.removeLast() }
        return s
    }
}

extension Day {
    /// `YYYYMMDD` as an integer: ordered like the day, and compared without String comparison in hot loops.
    var ordinal: Int {
        var value = 0
        for b in rawValue.utf8 where b >= 0x30 && b <= 0x39 { value = value * 10 + Int(b - 0x30) }
        return value
    }
}

/// Grades how much data backs a finding: `n / (n + half)`, 0.5 at `half` observations.
func dataConfidence(_ n: Double, half: Double) -> Double {
    guard n > 0 else { return 0 }
    let c = n / (n + max(half, 1))
    return (c * 100).rounded() / 100
}
