public import Logging
import Synchronization

/// Every log record a test's code emits, to check what was logged (an operator alert) and what never was
/// (a token, a buyer's email).
public final class CapturedLogs: Sendable {
    /// One log call with the handler's and the call's metadata merged.
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: Logger.Metadata
    }

    private let records = Mutex<[Record]>([])

    public init() {}

    /// A logger writing here at every level.
    public var logger: Logger { Logger(label: "captured") { label in self.handler(label: label) } }

    /// A handler writing here, for `Logger(label:factory:)`.
    public func handler(label: String) -> any LogHandler { Handler(sink: self) }

    /// Messages and metadata logged at `level`, oldest first.
    public func messages(at level: Logger.Level) -> [(message: String, metadata: Logger.Metadata)] {
        records.withLock { $0.filter { $0.level == level }.map { ($0.message, $0.metadata) } }
    }

    /// Every record as one line, `level message key=value…` (keys sorted), oldest first.
    public var lines: [String] {
        records.withLock { all in
            all.map { r in
                ([r.level.rawValue, r.message] + r.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                    .joined(separator: " ")
            }
        }
    }

    /// ``lines`` joined by newlines.
    public var text: String { lines.joined(separator: "\n") }

    func record(_ record: Record) { records.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.record(Record(level: event.level, message: "\(event.message)",
                               metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }))
        }
    }
}
