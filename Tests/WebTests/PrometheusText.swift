import Foundation

/// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests.
///
/// Stricter than Prometheus itself on purpose: only `# HELP` and `# TYPE` comments, each at most
/// once per family and before its samples; a family's samples contiguous; no duplicate series;
/// counters never negative; histograms with `le` buckets in increasing order, non-decreasing
/// counts, a `+Inf` bucket equal to `_count`, and a `_sum`.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    private(set) var samples: [Sample] = []
    private(set) var types: [String: String] = [:]
    private(set) var help: [String: String] = [:]

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }
        return matching.count == 1 ? matching[0].value : nil
    }

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Failure(line: 0, reason: "the exposition must end with a line feed") }
        var lines = text.components(separatedBy: "\n")
        lines.removeLast()
        var finished: Set<String> = []
        var current: String?
        var seen: Set<String> = []
        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            func fail(_ reason: String) -> Failure { Failure(line: number, reason: "\(reason): \(line.prefix(160))") }
            guard !line.isEmpty else { throw fail("empty line") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE"].contains(parts[1]), Self.isMetricName(parts[2]) else {
                    throw fail("a comment must be '# HELP name text' or '# TYPE name type'")
                }
                let family = parts[2]
                guard !finished.contains(family), !samples.contains(where: { Self.family(of: $0.name, types: types) == family }) else {
                    throw fail("HELP/TYPE of \(family) after its samples")
                }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("unknown metric type")
                    }
                    guard types[family] == nil else { throw fail("second TYPE line for \(family)") }
                    types[family] = parts[3]
                } else {
                    guard help[family] == nil else { throw fail("second HELP line for \(family)") }
                    let text = parts.count == 4 ? parts[3] : ""
                    guard Self.validHelpEscapes(text) else { throw fail("invalid escape in HELP text") }
                    help[family] = text
                }
                continue
            }
            let sample = try Self.parseSample(line, fail: fail)
            let family = Self.family(of: sample.name, types: types)
            if family != current {
                if let current { finished.insert(current) }
                guard !finished.contains(family) else { throw fail("samples of \(family) are not contiguous") }
                current = family
            }
            let identity = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seen.insert(identity).inserted else { throw fail("duplicate series \(identity)") }
            if types[family] == "counter", !(sample.value >= 0) { throw fail("negative or NaN counter") }
            if types[family] == "histogram", sample.name == family { throw fail("a histogram sample must be _bucket, _sum or _count") }
            samples.append(sample)
        }
        try checkHistograms()
    }

    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            let buckets = samples.filter { $0.name == family + "_bucket" }
            let series = Dictionary(grouping: buckets) { sample in sample.labels.filter { $0.key != "le" } }
            guard !series.isEmpty || !samples.contains(where: { $0.name.hasPrefix(family + "_") }) else {
                throw Failure(line: 0, reason: "histogram \(family) has no buckets")
            }
            for (labels, rows) in series {
                var previousBound = -Double.infinity
                var previousCount = -Double.infinity
                for row in rows {
                    guard let raw = row.labels["le"], let bound = raw == "+Inf" ? Double.infinity : Double(raw) else {
                        throw Failure(line: 0, reason: "\(family) bucket without a numeric le label")
                    }
                    guard bound > previousBound else { throw Failure(line: 0, reason: "\(family)\(labels) buckets not in increasing le order") }
                    guard row.value >= previousCount else { throw Failure(line: 0, reason: "\(family)\(labels) bucket counts decrease at le=\(raw)") }
                    previousBound = bound
                    previousCount = row.value
                }
                guard previousBound == .infinity else { throw Failure(line: 0, reason: "\(family)\(labels) has no +Inf bucket") }
                let count = samples.first { $0.name == family + "_count" && $0.labels == labels }
                guard let count, count.value == previousCount else {
                    throw Failure(line: 0, reason: "\(family)\(labels) _count missing or not equal to the +Inf bucket")
                }
                guard samples.contains(where: { $0.name == family + "_sum" && $0.labels == labels }) else {
                    throw Failure(line: 0, reason: "\(family)\(labels) has no _sum")
                }
            }
        }
    }

    /// The family a sample belongs to: histogram samples (`_bucket`, `_sum`, `_count`) belong to their base name.
    static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return name
    }

    static func isMetricName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { isNameScalar($0) || $0 == ":" }
    }

    static func isLabelName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy(isNameScalar)
    }

    static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_"
    }

    static func validHelpEscapes(_ text: String) -> Bool {
        var chars = text.makeIterator()
        while let c = chars.next() {
            if c == "\\" {
                guard let next = chars.next(), next == "\\" || next == "n" else { return false }
            }
        }
        return true
    }

    /// `name{label="value",...} value [timestamp]`.
    static func parseSample(_ line: String, fail: (String) -> Failure) throws -> Sample {
        let chars = Array(line)
        var i = 0
        var name = ""
        while i < chars.count, chars[i] != "{", chars[i] != " " { name.append(chars[i]); i += 1 }
        guard isMetricName(name) else { throw fail("invalid metric name '\(name)'") }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while true {
                guard i < chars.count else { throw fail("unterminated label set") }
                if chars[i] == "}" { i += 1; break }
                var label = ""
                while i < chars.count, chars[i] != "=" { label.append(chars[i]); i += 1 }
                guard isLabelName(label), i + 1 < chars.count, chars[i + 1] == "\"" else { throw fail("invalid label '\(label)'") }
                i += 2
                var value = ""
                while true {
                    guard i < chars.count else { throw fail("unterminated label value") }
                    let c = chars[i]
                    if c == "\"" { i += 1; break }
                    if c == "\\" {
                        guard i + 1 < chars.count else { throw fail("dangling escape") }
                        switch chars[i + 1] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("invalid escape in label value")
                        }
                        i += 2
                        continue
                    }
                    value.append(c)
                    i += 1
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw fail("label \(label) repeated") }
                guard i < chars.count else { throw fail("unterminated label set") }
                if chars[i] == "," { i += 1; continue }
                guard chars[i] == "}" else { throw fail("expected ',' or '}' after a label") }
            }
        }
        guard i < chars.count, chars[i] == " " else { throw fail("expected one space before the value") }
        let rest = String(chars[(i + 1)...]).split(separator: " ", omittingEmptySubsequences: false)
        guard (1...2).contains(rest.count), let value = parseValue(String(rest[0])) else { throw fail("invalid sample value") }
        if rest.count == 2 { guard Int64(rest[1]) != nil else { throw fail("invalid timestamp") } }
        return Sample(name: name, labels: labels, value: value)
    }

    static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }
}
