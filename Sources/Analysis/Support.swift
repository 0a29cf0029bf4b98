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
        // Sixteen lowercase hex digits written straight into the string (a small string: no allocation).
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: hash >> UInt64(60 - 4 * i)) & 0xF
                buffer[i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
            return 16
        }
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
        let negative = x < 0 && units != 0
        var whole = units / Int64(scale)
        var frac = units % Int64(scale)
        // `[-]whole[.frac]`, frac zero-padded to `decimals` digits, written backwards into one buffer: evidence
        // formats tens of thousands of numbers, and joining four strings each was a visible cost.
        var wholeDigits = 1
        var rest = whole
        while rest >= 10 {
            rest /= 10
            wholeDigits += 1
        }
        let count = (negative ? 1 : 0) + wholeDigits + (decimals > 0 ? decimals + 1 : 0)
        return String(unsafeUninitializedCapacity: count) { buffer in
            var i = count
            if decimals > 0 {
                for _ in 0..<decimals {
                    i -= 1
                    buffer[i] = 0x30 + UInt8(frac % 10)
                    frac /= 10
                }
                i -= 1
                buffer[i] = UInt8(ascii: ".")
            }
            repeat {
                i -= 1
                buffer[i] = 0x30 + UInt8(whole % 10)
                whole /= 10
            } while whole > 0
            if negative { buffer[0] = UInt8(ascii: "-") }
            return count
        }
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
    /// property lookup per character, which dominated the 2,000-listing benchmark. ASCII text is cut in one
    /// pass over its contiguous UTF-8, each word built straight from its bytes.
    static func words(_ s: String) -> [String] {
        if let ascii = asciiWords(s) { return ascii }
        var out: [String] = []
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
                    // A scalar lowercasing leaves alone is its own mapping: skip building the mapping String.
                    if p.changesWhenLowercased {
                        current.append(contentsOf: p.lowercaseMapping.unicodeScalars)
                    } else {
                        current.append(u)
                    }
                } else {
                    flush()
                }
            }
        }
        flush()
        return out
    }

    /// `words(s)` for ASCII text; nil when `s` holds a non-ASCII byte (then the Unicode path decides).
    private static func asciiWords(_ s: String) -> [String]? {
        let result = s.utf8.withContiguousStorageIfAvailable { bytes -> [String]? in
            var out: [String] = []
            var start = -1
            var upper = false
            func word(_ end: Int) -> String {
                let count = end - start
                let from = start
                if !upper { return String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<end]), as: UTF8.self) }
                return String(unsafeUninitializedCapacity: count) { buffer in
                    for k in 0..<count {
                        let b = bytes[from + k]
                        buffer[k] = b >= 0x41 && b <= 0x5A ? b + 0x20 : b
                    }
                    return count
                }
            }
            for i in 0..<bytes.count {
                let b = bytes[i]
                if b >= 0x80 { return nil }
                if (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) {
                    if start < 0 { start = i; upper = false }
                } else if b >= 0x41 && b <= 0x5A {
                    if start < 0 { start = i }
                    upper = true
                } else if start >= 0 {
                    out.append(word(i))
                    start = -1
                    upper = false
                }
            }
            if start >= 0 { out.append(word(bytes.count)) }
            return out
        }
        return result ?? nil
    }

    /// Singular form used for matching, so `bottles` covers `bottle` (Amazon matches both, §2.1 [14]).
    ///
    /// Every rule needs a final `s`, so a word not ending in `s` (all-digit words included) is returned
    /// as it is after one byte read; the rest reads the last four bytes without copying the word.
    static func stem(_ word: String) -> String {
        let u = word.utf8
        let n = u.count
        guard n > 3 else { return word }
        var i = u.index(before: u.endIndex)
        guard u[i] == UInt8(ascii: "s") else { return word }
        i = u.index(before: i)
        let c1 = u[i]
        i = u.index(before: i)
        let c2 = u[i]
        i = u.index(before: i)
        let c3 = u[i]
        func dropping(_ k: Int) -> String { String(decoding: u.prefix(n - k), as: UTF8.self) }
        let e = UInt8(ascii: "e"), s = UInt8(ascii: "s"), h = UInt8(ascii: "h")
        if c1 == e, c2 == UInt8(ascii: "i") { return dropping(3) + "y" }
        if c1 == e, (c2 == s && c3 == s) || (c2 == h && (c3 == s || c3 == UInt8(ascii: "c"))) || c2 == UInt8(ascii: "x") {
            return dropping(2)
        }
        if c1 != s, c1 != UInt8(ascii: "u") { return dropping(1) }
        return word
    }

    /// Whether `needle` occurs in `haystack` (byte-wise; both already lowercased).
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        contains(haystack[...], Array(needle.utf8))
    }

    /// Whether the bytes `n` occur in `haystack`; an empty needle always does.
    static func contains(_ haystack: ArraySlice<UInt8>, _ n: [UInt8]) -> Bool {
        guard !n.isEmpty, n.count <= haystack.count else { return n.isEmpty }
        let first = haystack.startIndex
        for start in first...(first + haystack.count - n.count) where haystack[start] == n[0] {
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
        let bytes = word.utf8
        guard bytes.count == 10 else { return false }
        for (index, b) in bytes.enumerated() {
            if index == 0, b != UInt8(ascii: "b") { return false }
            if index == 1, b != UInt8(ascii: "0") { return false }
            guard (b >= 48 && b <= 57) || (b >= 97 && b <= 122) else { return false }
        }
        return true
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
        // ASCII without tabs, line breaks, leading, trailing or double spaces is already squeezed.
        func scan(_ bytes: some Sequence<UInt8>) -> (clean: Bool, endsInSpace: Bool) {
            var previousSpace = true
            for b in bytes {
                if b >= 0x80 || (b >= 0x09 && b <= 0x0D) || (b == 0x20 && previousSpace) { return (false, previousSpace) }
                previousSpace = b == 0x20
            }
            return (true, previousSpace)
        }
        let (clean, endsInSpace) = s.utf8.withContiguousStorageIfAvailable(scan) ?? scan(s.utf8)
        if clean, !endsInSpace || s.isEmpty { return s }
        if !clean, isSqueezed(s) { return s }
        return whitespaceTokens(s).joined(separator: " ")
    }

    /// `s.split(whereSeparator: \.isWhitespace)`; ASCII text is cut at its whitespace bytes, which are
    /// exactly its whitespace Characters, without walking Characters.
    static func whitespaceTokens(_ s: String) -> [Substring] {
        let u = s.utf8
        guard isASCII(s) else { return s.split(whereSeparator: { $0.isWhitespace }) }
        var out: [Substring] = []
        var start: String.Index?
        var i = u.startIndex
        while i != u.endIndex {
            let b = u[i]
            if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                if let from = start {
                    out.append(s[from..<i])
                    start = nil
                }
            } else if start == nil {
                start = i
            }
            u.formIndex(after: &i)
        }
        if let from = start { out.append(s[from...]) }
        return out
    }

    /// Whether every byte of `s` is ASCII, read from its contiguous UTF-8 when it has some.
    static func isASCII(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { $0.allSatisfy { $0 < 0x80 } } ?? s.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Whether `s` holds the byte `b`, read from its contiguous UTF-8 when it has some.
    static func containsByte(_ s: String, _ b: UInt8) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { $0.contains(b) } ?? s.utf8.contains(b)
    }

    /// Whether `squeeze(s)` is empty (`s` holds whitespace only). Any ASCII byte that is not whitespace
    /// starts or sits in a Character that is not whitespace, so most text answers at its first byte.
    static func isBlank(_ s: String) -> Bool {
        func hasVisibleASCII(_ bytes: some Sequence<UInt8>) -> Bool {
            bytes.contains { $0 < 0x80 && $0 != 0x20 && !($0 >= 0x09 && $0 <= 0x0D) }
        }
        if s.utf8.withContiguousStorageIfAvailable(hasVisibleASCII) ?? hasVisibleASCII(s.utf8) { return false }
        return squeeze(s).isEmpty
    }

    /// Whether `a` and `b` hold the same UTF-8 bytes (stricter than `==`, which equates canonically
    /// equivalent text): equal bytes squeeze, tokenize and compare equal, so work on them can be skipped.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let contiguous = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in x.elementsEqual(y) }
        }
        return (contiguous ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }

    /// Whether `squeeze` would give `s` back unchanged, read from scalars instead of splitting Characters:
    /// no whitespace scalar but single inner spaces, and no scalar after a space that would join it into
    /// one Character (a combining mark). False only costs the slow path.
    private static func isSqueezed(_ s: String) -> Bool {
        var last: UInt32 = 0
        var sawAny = false
        for u in s.unicodeScalars {
            let v = u.value
            if v == 0x20 {
                if !sawAny || last == 0x20 { return false }
            } else if v < 0x80 {
                if v >= 0x09 && v <= 0x0D { return false }
            } else {
                if last == 0x20 {
                    var pair = String.UnicodeScalarView()
                    pair.append(" ")
                    pair.append(u)
                    if String(pair).count != 2 { return false }
                }
                // White_Space outside ASCII: U+0085, U+00A0, then nothing below U+1680.
                if v == 0x85 || v == 0xA0 || (v >= 0x1680 && u.properties.isWhitespace) { return false }
            }
            last = v
            sawAny = true
        }
        return last != 0x20
    }
}

/// Two strings compared and hashed by their UTF-8 bytes, not by canonical equivalence: a cache key for
/// work derived from the exact text, so only byte-identical text shares a cached result.
struct ExactPair: Hashable {
    let first: String
    let second: String

    init(_ first: String, _ second: String) {
        self.first = first
        self.second = second
    }

    static func == (a: ExactPair, b: ExactPair) -> Bool {
        Text.sameBytes(a.first, b.first) && Text.sameBytes(a.second, b.second)
    }

    func hash(into hasher: inout Hasher) {
        func add(_ s: String) {
            let done: Void? = s.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            if done == nil { Array(s.utf8).withUnsafeBytes { hasher.combine(bytes: $0) } }
        }
        add(first)
        hasher.combine(0xFF as UInt8)  // never a UTF-8 byte, so ("ab", "c") and ("a", "bc") differ
        add(second)
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
        func digits(_ bytes: some Sequence<UInt8>) -> Int {
            var value = 0
            for b in bytes where b >= 0x30 && b <= 0x39 { value = value * 10 + Int(b - 0x30) }
            return value
        }
        return rawValue.utf8.withContiguousStorageIfAvailable(digits) ?? digits(rawValue.utf8)
    }
}

/// Grades how much data backs a finding: `n / (n + half)`, 0.5 at `half` observations.
func dataConfidence(_ n: Double, half: Double) -> Double {
    guard n > 0 else { return 0 }
    let c = n / (n + max(half, 1))
    return (c * 100).rounded() / 100
}
