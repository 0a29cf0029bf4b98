/// Exponential backoff with jitter, and how many attempts a job gets before the dead-letter stream.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first one included.
    public var maxAttempts: Int
    /// Delay before the first retry, in seconds.
    public var baseDelay: Double
    /// Longest delay between two attempts, in seconds.
    public var maxDelay: Double

    public init(maxAttempts: Int = 8, baseDelay: Double = 2, maxDelay: Double = 900) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `attempt` (1 = first retry): `base·2^(attempt−1)`, capped,
    /// with "equal jitter" so it lies in [½·d, d] — never zero, never synchronised across workers.
    public func delay(forRetry attempt: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let exponent = min(max(attempt - 1, 0), 40)
        let full = min(maxDelay, baseDelay * Double(1 << UInt64(min(exponent, 62))))
        return full / 2 + full / 2 * random
    }

    /// Bounds within which ``delay(forRetry:random:)`` falls for `attempt`.
    public func delayBounds(forRetry attempt: Int) -> ClosedRange<Double> {
        delay(forRetry: attempt, random: 0)...delay(forRetry: attempt, random: 1)
    }
}
