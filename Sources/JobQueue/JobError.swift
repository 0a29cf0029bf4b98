/// Why a job failed, and whether trying again can help.
///
/// Handlers throw `.transient` for failures that may pass (timeouts, 5xx, 429) and
/// `.permanent` for ones that will not (bad arguments, unknown seller). Any other error
/// thrown by a handler is treated as transient.
public struct JobError: Error, Sendable, Equatable, CustomStringConvertible {
    public let retryable: Bool
    public let message: String

    public static func transient(_ message: String) -> JobError { JobError(retryable: true, message: message) }
    public static func permanent(_ message: String) -> JobError { JobError(retryable: false, message: message) }

    public var description: String { message }
}
