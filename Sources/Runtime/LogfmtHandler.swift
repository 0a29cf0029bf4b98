import Foundation
import Logging
import Synchronization

/// A swift-log handler writing one logfmt or JSON line per event to standard error.
///
/// Hand-written because swift-log ships only `StreamLogHandler`, whose format is neither
/// logfmt nor JSON; log shippers parse these two. Metadata carries ids only (job, kind,
/// seller): callers never put payloads or secrets in it.
public struct LogfmtHandler: LogHandler {
    public enum Format: String, Sendable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: Format
    private static let lock = Mutex(())

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", LogfmtHandler.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        var line: String
        switch format {
        case .logfmt:
            line = fields.map { "\($0.0)=\(LogfmtHandler.quote($0.1))" }.joined(separator: " ")
        case .json:
            let object = Dictionary(fields, uniquingKeysWith: { _, new in new })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        line += "\n"
        LogfmtHandler.lock.withLock { _ in
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        }
    }

    private static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }
}

/// Process-wide logging set-up, done once by each executable.
public enum Logs {
    private static let bootstrapped = Mutex(false)

    /// Installs the logfmt/JSON handler at `level` (idempotent).
    public static func bootstrap(level: String, format: String) {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            let lvl = Logger.Level(rawValue: level) ?? .info
            let fmt = LogfmtHandler.Format(rawValue: format) ?? .logfmt
            LoggingSystem.bootstrap { LogfmtHandler(label: $0, level: lvl, format: fmt) }
        }
    }
}
