import Foundation

/// How a worker consumes its job kinds.
public struct WorkerConfiguration: Sendable {
    /// The kinds (streams) this worker takes jobs from.
    public var kinds: [JobKind]
    /// Jobs run at the same time in this process.
    public var concurrency: Int
    /// Most messages taken from Redis in one read.
    public var batchSize: Int
    /// Longest wait for new messages in one blocking read, seconds (bounds shutdown latency).
    public var blockSeconds: Double
    /// A lease idle this long (seconds) is taken over by another worker: its worker is presumed dead.
    public var visibilityTimeout: Double
    /// How long in-flight jobs may take to finish after SIGTERM before they are put back.
    public var shutdownGrace: Double
    /// Drain what is due, then exit.
    public var burst: Bool
    /// In burst mode, delayed jobs due within this many seconds (lock deferrals, first retries) are waited for.
    public var burstHorizon: Double
    public var retry: RetryPolicy
    /// Two jobs of one seller never run at the same time, across processes and machines.
    public var sellerExclusive: Bool
    /// Name of this consumer in the consumer group; unique per process.
    public var consumerName: String
    /// How often the worker reports itself alive, seconds.
    public var heartbeatInterval: Double

    public init(kinds: [JobKind], concurrency: Int = 4, batchSize: Int = 100, blockSeconds: Double = 1,
                visibilityTimeout: Double = 60, shutdownGrace: Double = 25, burst: Bool = false, burstHorizon: Double = 10,
                retry: RetryPolicy = RetryPolicy(), sellerExclusive: Bool = true, consumerName: String = WorkerConfiguration.defaultConsumerName(),
                heartbeatInterval: Double = 5) {
        self.kinds = kinds
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.blockSeconds = blockSeconds
        self.visibilityTimeout = visibilityTimeout
        self.shutdownGrace = shutdownGrace
        self.burst = burst
        self.burstHorizon = burstHorizon
        self.retry = retry
        self.sellerExclusive = sellerExclusive
        self.consumerName = consumerName
        self.heartbeatInterval = heartbeatInterval
    }

    /// `host:pid:random`, so a restarted process never inherits a dead one's leases by name.
    public static func defaultConsumerName() -> String {
        let host = ProcessInfo.processInfo.hostName
        let suffix = UUID().uuidString.prefix(8).lowercased()
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(suffix)"
    }
}
