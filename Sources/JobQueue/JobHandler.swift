import Domain
import Logging

/// What a handler gets besides its job: a logger carrying the job's ids, and the queue for follow-ups.
public struct JobContext: Sendable {
    public let logger: Logger
    public let queue: any JobQueue
    public let delivery: Delivery

    public init(logger: Logger, queue: any JobQueue, delivery: Delivery) {
        self.logger = logger
        self.queue = queue
        self.delivery = delivery
    }
}

/// Does the work of one job kind; must be idempotent, since delivery is at-least-once.
///
/// Throw ``JobError/permanent(_:)`` for failures a retry cannot fix; anything else is retried.
public protocol JobHandler: Sendable {
    func handle(_ job: JobEnvelope, context: JobContext) async throws

    /// Releases what the handler holds (open stores, connection pools) once its worker has stopped.
    ///
    /// A worker process calls it before it exits: anything still open when `main` returns would be torn down
    /// by deinitialisers racing the C libraries' exit handlers (a store's last checkpoint encrypting pages
    /// after OpenSSL was cleaned up). Must be idempotent; the default holds nothing.
    func close() async
}

extension JobHandler {
    public func close() async {}
}

/// Routes each job to the handler registered for its kind.
public struct JobRouter: JobHandler {
    private let handlers: [JobKind: any JobHandler]

    public init(_ handlers: [JobKind: any JobHandler]) {
        self.handlers = handlers
    }

    public var kinds: [JobKind] { handlers.keys.sorted() }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        guard let handler = handlers[job.kind] else {
            throw JobError.permanent("no handler for job kind '\(job.kind)' in this worker")
        }
        try await handler.handle(job, context: context)
    }

    /// Closes every routed handler (handlers that share resources close them idempotently).
    public func close() async {
        for kind in kinds { await handlers[kind]?.close() }
    }
}
