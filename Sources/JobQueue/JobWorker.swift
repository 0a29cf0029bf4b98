import Domain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Consumes jobs of some kinds with bounded concurrency: the loop every worker executable runs.
///
/// Reads in batches, runs each job under its seller's lock, settles outcomes in batches,
/// renews leases of long jobs, takes over leases of dead workers, retries with backoff,
/// dead-letters what cannot succeed, and on graceful shutdown stops reading and lets
/// in-flight jobs finish within the grace period (putting back what did not).
public final class JobWorker: Service {
    private let queue: any JobQueue
    private let handler: any JobHandler
    private let config: WorkerConfiguration
    private let logger: Logger
    private let state = WorkerState()

    public init(queue: any JobQueue, handler: any JobHandler, configuration: WorkerConfiguration, logger: Logger) {
        self.queue = queue
        self.handler = handler
        self.config = configuration
        var logger = logger
        logger[metadataKey: "consumer"] = "\(configuration.consumerName)"
        self.logger = logger
    }

    public func run() async throws {
        try await withRedisRetry("prepare streams") { try await self.queue.prepare(kinds: self.config.kinds) }
        logger.info("worker started", metadata: [
            "kinds": "\(config.kinds.map(\.rawValue).joined(separator: ","))",
            "concurrency": "\(config.concurrency)", "burst": "\(config.burst)",
        ])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintenanceLoop() }
                group.addTask { await self.settleLoop() }
                await self.fetchLoop(group: &group)
                await self.drainInFlight()
                self.state.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.requestStop()
        }
        try? await queue.unregister(consumer: config.consumerName, kinds: config.kinds)
        logger.info("worker stopped", metadata: ["processed": "\(state.processedCount)"])
    }

    // MARK: - Fetching

    private func fetchLoop(group: inout DiscardingTaskGroup) async {
        var lastReclaim = Date.distantPast
        var lastPromote = Date.distantPast
        var failures = 0
        var recoverOwn = true
        while !state.stopRequested {
            let free = config.concurrency - state.inFlightCount
            if free <= 0 {
                await state.waitForJobEnd()
                continue
            }
            do {
                var deliveries: [Delivery] = []
                if recoverOwn {
                    // A reply lost to a broken connection leaves jobs leased to us that we never saw.
                    deliveries = try await queue.ownPending(kinds: config.kinds, consumer: config.consumerName, max: config.batchSize)
                        .filter { !state.isRunning($0) }
                    recoverOwn = false
                }
                if deliveries.isEmpty, Date().timeIntervalSince(lastReclaim) >= config.visibilityTimeout / 2 {
                    lastReclaim = Date()
                    deliveries = try await queue.reclaim(kinds: config.kinds, consumer: config.consumerName,
                                                         minIdle: config.visibilityTimeout, max: free)
                    if !deliveries.isEmpty { logger.warning("took over jobs of a dead worker", metadata: ["count": "\(deliveries.count)"]) }
                }
                if deliveries.isEmpty {
                    if config.burst || Date().timeIntervalSince(lastPromote) >= 0.5 {
                        lastPromote = Date()
                        _ = try await queue.promoteDue(kinds: config.kinds, now: Date())
                    }
                    let busy = state.inFlightCount > 0
                    let wait = config.burst || busy ? min(0.05, config.blockSeconds) : config.blockSeconds
                    deliveries = try await queue.dequeue(kinds: config.kinds, consumer: config.consumerName,
                                                         max: min(free, config.batchSize), wait: wait)
                }
                failures = 0
                if deliveries.isEmpty {
                    if config.burst, try await burstIsDone() { break }
                    continue
                }
                try await start(deliveries, group: &group)
            } catch {
                failures += 1
                recoverOwn = true
                let pause = min(5.0, 0.1 * pow(2, Double(min(failures, 6))))
                logger.warning("queue unavailable, retrying", metadata: ["error": "\(error)", "retry_in_s": "\(pause)"])
                try? await Task.sleep(for: .seconds(pause))
                if failures > 1 { try? await queue.prepare(kinds: config.kinds) }
            }
        }
    }

    /// Burst mode ends when nothing is running, nothing waits to be settled, and no delayed job is due soon.
    private func burstIsDone() async throws -> Bool {
        guard state.inFlightCount == 0 else {
            await state.waitForJobEnd()
            return false
        }
        await state.waitUntilSettled()
        if try await queue.promoteDue(kinds: config.kinds, now: Date()) > 0 { return false }
        guard let next = try await queue.nextDelayed(kinds: config.kinds) else { return true }
        let wait = next.timeIntervalSinceNow
        if wait > config.burstHorizon { return true }
        try? await Task.sleep(for: .seconds(max(0.01, min(wait, 0.5))))
        return false
    }

    private func start(_ deliveries: [Delivery], group: inout DiscardingTaskGroup) async throws {
        var runnable: [Delivery] = []
        var immediate: [Outcome] = []
        for delivery in deliveries {
            guard delivery.envelope != nil else {
                logger.error("dead-lettered malformed job message", metadata: ["kind": "\(delivery.kind)", "reason": "\(delivery.decodeError ?? "")"])
                immediate.append(.dead(delivery, reason: delivery.decodeError ?? "malformed job message"))
                continue
            }
            if delivery.deliveryCount > config.retry.maxAttempts + 1 {
                immediate.append(.dead(delivery, reason: "delivered \(delivery.deliveryCount) times without being settled: its worker died every time"))
                continue
            }
            runnable.append(delivery)
        }
        let tokens = runnable.map { lockToken(for: $0) }
        var locks: [LockResult] = Array(repeating: .acquired, count: runnable.count)
        if config.sellerExclusive, !runnable.isEmpty {
            locks = try await queue.lockSellers(zip(runnable, tokens).map { ($0.envelope!.seller, $1) }, ttl: config.visibilityTimeout)
        }
        var accepted: [(Delivery, String?)] = []
        accepted.reserveCapacity(runnable.count)
        for ((delivery, token), lock) in zip(zip(runnable, tokens), locks) {
            switch lock {
            case .acquired:
                accepted.append((delivery, config.sellerExclusive ? token : nil))
            case let .busy(retryAfter):
                var next = delivery.envelope!
                next.deferrals += 1
                let backoff = min(5.0, 0.1 * pow(2, Double(min(next.deferrals, 6))))
                let delay = max(0.02, min(retryAfter, backoff)) * Double.random(in: 0.8...1.2)
                immediate.append(.deferred(delivery, next: next, at: Date().addingTimeInterval(delay)))
            }
        }
        // Jobs go to a run queue served by up to `concurrency` long-lived runner tasks (created as
        // in-flight jobs need them), instead of one task per job.
        let newRunners = state.begin(accepted, maxRunners: config.concurrency)
        for _ in 0..<newRunners {
            group.addTask { await self.runnerLoop() }
        }
        if !immediate.isEmpty { state.enqueueOutcomes(immediate) }
    }

    private func lockToken(for delivery: Delivery) -> String {
        "\(config.consumerName)/\(delivery.key)"
    }

    // MARK: - Running

    /// Runs queued jobs one after another until the worker finishes.
    private func runnerLoop() async {
        while let delivery = await state.nextJob() {
            await execute(delivery)
        }
    }

    private func execute(_ delivery: Delivery) async {
        let envelope = delivery.envelope!
        var jobLogger = logger
        // One metadata write instead of four (each would copy the handler's metadata).
        var metadata = jobLogger.handler.metadata
        metadata.reserveCapacity(metadata.count + 4)
        metadata["job_id"] = .string(envelope.id)
        metadata["kind"] = .string(envelope.kind.rawValue)
        metadata["seller"] = .string(envelope.seller.rawValue)
        metadata["trace_id"] = .string(envelope.traceID)
        jobLogger.handler.metadata = metadata
        let context = JobContext(logger: jobLogger, queue: queue, delivery: delivery)
        let outcome: Outcome
        do {
            try await handler.handle(envelope, context: context)
            outcome = .completed(delivery)
        } catch is CancellationError where state.stopRequested {
            outcome = .requeue(delivery)
        } catch {
            outcome = failureOutcome(delivery, envelope: envelope, error: error, logger: jobLogger)
        }
        state.end(delivery, outcome: outcome)
    }

    private func failureOutcome(_ delivery: Delivery, envelope: JobEnvelope, error: any Error, logger: Logger) -> Outcome {
        let jobError = error as? JobError
        let message = jobError?.message ?? "\(error)"
        let attemptsMade = envelope.attempt + 1
        if jobError?.retryable == false {
            logger.error("job failed permanently, dead-lettered", metadata: ["error": "\(message)"])
            return .dead(delivery, reason: message)
        }
        if attemptsMade >= config.retry.maxAttempts {
            logger.error("job failed too often, dead-lettered", metadata: ["error": "\(message)", "attempts": "\(attemptsMade)"])
            return .dead(delivery, reason: "gave up after \(attemptsMade) attempts: \(message)")
        }
        let delay = config.retry.delay(forRetry: attemptsMade)
        var next = envelope
        next.attempt = attemptsMade
        logger.warning("job failed, will retry", metadata: ["error": "\(message)", "retry_in_s": "\(String(format: "%.2f", delay))"])
        return .retry(delivery, next: next, at: Date().addingTimeInterval(delay), error: message)
    }

    /// After the fetch loop stops: wait for in-flight jobs up to the grace period, then put the rest back.
    private func drainInFlight() async {
        let deadline = Date().addingTimeInterval(config.shutdownGrace)
        while state.inFlightCount > 0, Date() < deadline {
            await state.waitForSlot(timeout: deadline.timeIntervalSinceNow)
        }
        let unfinished = state.abandonInFlight()
        if !unfinished.isEmpty {
            logger.warning("grace period over, putting unfinished jobs back", metadata: ["count": "\(unfinished.count)"])
            state.enqueueOutcomes(unfinished.map { .requeue($0) })
        }
        await state.waitUntilSettled()
    }

    // MARK: - Settling

    private func settleLoop() async {
        var failures = 0
        while true {
            let batch = state.takeOutcomes()
            if batch.outcomes.isEmpty {
                if state.finished { return }
                await state.waitForOutcomes()
                continue
            }
            do {
                try await queue.settle(batch.outcomes, unlocking: batch.locks)
                state.settled(batch.outcomes)
                failures = 0
            } catch {
                failures += 1
                state.putBack(batch)
                let pause = min(5.0, 0.1 * pow(2, Double(min(failures, 6))))
                logger.warning("cannot settle jobs, retrying", metadata: ["error": "\(error)", "count": "\(batch.outcomes.count)"])
                try? await Task.sleep(for: .seconds(pause))
            }
        }
    }

    // MARK: - Maintenance

    private func maintenanceLoop() async {
        let startedAt = Int64(Date().timeIntervalSince1970 * 1000)
        var lastHeartbeat = Date.distantPast
        var lastRenew = Date()
        let renewEvery = config.visibilityTimeout / 3
        while !state.finished, !Task.isCancelled {
            do {
                if Date().timeIntervalSince(lastHeartbeat) >= config.heartbeatInterval {
                    lastHeartbeat = Date()
                    try await queue.heartbeat(ConsumerInfo(
                        name: config.consumerName, kinds: config.kinds.map(\.rawValue),
                        pid: Int(ProcessInfo.processInfo.processIdentifier), host: ProcessInfo.processInfo.hostName,
                        startedAt: startedAt, lastHeartbeat: Int64(Date().timeIntervalSince1970 * 1000),
                        inFlight: state.inFlightCount))
                }
                if Date().timeIntervalSince(lastRenew) >= renewEvery {
                    lastRenew = Date()
                    let long = state.running(startedBefore: Date().addingTimeInterval(-renewEvery))
                    if !long.isEmpty {
                        try await queue.renew(long.map(\.delivery), consumer: config.consumerName)
                        let locks = long.compactMap { item in item.lockToken.map { (item.delivery.envelope!.seller, $0) } }
                        if !locks.isEmpty { try await queue.renewSellerLocks(locks, ttl: config.visibilityTimeout) }
                    }
                }
            } catch {
                logger.warning("maintenance failed, retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private func withRedisRetry(_ what: String, _ body: @Sendable () async throws -> Void) async throws {
        var failures = 0
        while true {
            do {
                return try await body()
            } catch {
                failures += 1
                if state.stopRequested || Task.isCancelled { throw error }
                let pause = min(5.0, 0.1 * pow(2, Double(min(failures, 6))))
                logger.warning("cannot \(what), retrying", metadata: ["error": "\(error)", "retry_in_s": "\(pause)"])
                try await Task.sleep(for: .seconds(pause))
            }
        }
    }
}

/// The worker's shared bookkeeping: in-flight jobs, the run queue and its runners, outcomes
/// waiting to be settled, wake-ups.
final class WorkerState: Sendable {
    struct Running: Sendable {
        var delivery: Delivery
        var startedAt: Date
        var lockToken: String?
    }

    struct Batch: Sendable {
        var outcomes: [Outcome]
        var locks: [(SellerID, String)]
    }

    /// What tells deliveries apart (``Delivery/key``'s parts, hashed without building the string).
    private struct RunKey: Hashable {
        let kind: JobKind
        let receipt: String

        init(_ delivery: Delivery) {
            kind = delivery.kind
            receipt = delivery.receipt
        }
    }

    private struct State {
        /// Jobs started and not ended: queued for a runner or running.
        var running: [RunKey: Running] = [:]
        /// Started jobs no runner has taken yet, from `runHead` on.
        var runQueue: [Delivery] = []
        var runHead = 0
        /// Runner tasks created so far, and those waiting for a job.
        var runners = 0
        var idleRunners: [CheckedContinuation<Void, Never>] = []
        /// An idle runner was resumed and has not looked at the run queue yet.
        var wakePending = false
        var outbox: [Outcome] = []
        var outboxLocks: [(SellerID, String)] = []
        var settling = 0
        var stopRequested = false
        var finished = false
        var processed = 0
        var endWaiters: [CheckedContinuation<Void, Never>] = []
        var outboxWaiters: [CheckedContinuation<Void, Never>] = []
        var settledWaiters: [CheckedContinuation<Void, Never>] = []

        var queueIsEmpty: Bool { runHead == runQueue.count }
    }

    private let state = Mutex(State())

    var inFlightCount: Int { state.withLock { $0.running.count } }

    func isRunning(_ delivery: Delivery) -> Bool { state.withLock { $0.running[RunKey(delivery)] != nil } }
    var stopRequested: Bool { state.withLock { $0.stopRequested } }
    var finished: Bool { state.withLock { $0.finished } }
    var processedCount: Int { state.withLock { $0.processed } }

    /// Registers jobs as in flight and queues them for the runners; returns how many runner tasks
    /// to add so that every in-flight job can run at once (never more than `maxRunners` in all).
    func begin(_ jobs: [(Delivery, String?)], maxRunners: Int) -> Int {
        guard !jobs.isEmpty else { return 0 }
        let now = Date()
        let (add, wake) = state.withLock { s -> (Int, CheckedContinuation<Void, Never>?) in
            for (delivery, token) in jobs {
                s.running[RunKey(delivery)] = Running(delivery: delivery, startedAt: now, lockToken: token)
                s.runQueue.append(delivery)
            }
            let add = max(0, min(maxRunners, s.running.count) - s.runners)
            s.runners += add
            var wake: CheckedContinuation<Void, Never>?
            if add == 0, !s.wakePending, let idle = s.idleRunners.popLast() {
                s.wakePending = true
                wake = idle
            }
            return (add, wake)
        }
        wake?.resume()
        return add
    }

    /// The next queued job for a runner, waiting while there is none; nil once the worker finished.
    ///
    /// A runner that takes a job while more are queued resumes one idle runner (one at a time), so
    /// slow jobs fan out over runners while quick ones are run by whichever runner is awake,
    /// without a thread wake-up per job.
    func nextJob() async -> Delivery? {
        var woken = false
        while true {
            enum Step { case job(Delivery, [CheckedContinuation<Void, Never>]), done, idle }
            let step = state.withLock { s -> Step in
                if woken { s.wakePending = false }
                if !s.queueIsEmpty {
                    let delivery = s.runQueue[s.runHead]
                    s.runHead += 1
                    var wake: [CheckedContinuation<Void, Never>] = []
                    if s.queueIsEmpty {
                        s.runQueue.removeAll(keepingCapacity: true)
                        s.runHead = 0
                        // Outcomes that ended while jobs were still queued are settled now.
                        if !s.outbox.isEmpty {
                            wake = s.outboxWaiters
                            s.outboxWaiters = []
                        }
                    } else if !s.wakePending, let idle = s.idleRunners.popLast() {
                        s.wakePending = true
                        wake.append(idle)
                    }
                    return .job(delivery, wake)
                }
                return s.finished ? .done : .idle
            }
            switch step {
            case let .job(delivery, wake):
                wake.forEach { $0.resume() }
                return delivery
            case .done:
                return nil
            case .idle:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { s -> Bool in
                        if !s.queueIsEmpty || s.finished { return true }
                        s.idleRunners.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                woken = true
            }
        }
    }

    /// Records a job's outcome for the settle loop (ignored if the job was abandoned at shutdown).
    ///
    /// The settle loop is woken only when no started job still waits for a runner: a batch of
    /// quick jobs is then settled together instead of one round trip per job.
    func end(_ delivery: Delivery, outcome: Outcome) {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard let running = s.running.removeValue(forKey: RunKey(delivery)) else { return [] }
            s.outbox.append(outcome)
            if let token = running.lockToken, let seller = delivery.envelope?.seller { s.outboxLocks.append((seller, token)) }
            var waiters = s.endWaiters
            s.endWaiters = []
            if s.queueIsEmpty {
                waiters += s.outboxWaiters
                s.outboxWaiters = []
            }
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    func enqueueOutcomes(_ outcomes: [Outcome]) {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.outbox.append(contentsOf: outcomes)
            let waiters = s.outboxWaiters
            s.outboxWaiters = []
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    func running(startedBefore date: Date) -> [Running] {
        state.withLock { $0.running.values.filter { $0.startedAt < date } }
    }

    /// Removes every in-flight job, queued or running (grace period over), and returns their deliveries.
    func abandonInFlight() -> [Delivery] {
        state.withLock { s in
            let deliveries = s.running.values.map(\.delivery)
            s.running = [:]
            s.runQueue = []
            s.runHead = 0
            return deliveries
        }
    }

    func takeOutcomes() -> Batch {
        state.withLock { s in
            let batch = Batch(outcomes: s.outbox, locks: s.outboxLocks)
            s.settling += s.outbox.count
            s.outbox = []
            s.outboxLocks = []
            return batch
        }
    }

    func putBack(_ batch: Batch) {
        state.withLock { s in
            s.settling -= batch.outcomes.count
            s.outbox.insert(contentsOf: batch.outcomes, at: 0)
            s.outboxLocks.insert(contentsOf: batch.locks, at: 0)
        }
    }

    func settled(_ outcomes: [Outcome]) {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.settling -= outcomes.count
            s.processed += outcomes.reduce(0) { count, outcome in
                if case .completed = outcome { return count + 1 }
                return count
            }
            guard s.settling == 0, s.outbox.isEmpty else { return [] }
            let waiters = s.settledWaiters
            s.settledWaiters = []
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    func requestStop() {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.stopRequested = true
            let waiters = s.endWaiters
            s.endWaiters = []
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    func finish() {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.finished = true
            let waiters = s.outboxWaiters + s.endWaiters + s.settledWaiters + s.idleRunners
            s.outboxWaiters = []
            s.endWaiters = []
            s.settledWaiters = []
            s.idleRunners = []
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    /// Returns when a job ends or, unless `ignoringStop`, a stop is requested (at once if nothing is in flight).
    func waitForJobEnd(ignoringStop: Bool = false) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { s -> Bool in
                if (s.stopRequested && !ignoringStop) || s.finished || s.running.isEmpty { return true }
                s.endWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns when a job ends or `timeout` passes (the shutdown grace period, when a stop is already requested).
    func waitForSlot(timeout: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForJobEnd(ignoringStop: true) }
            group.addTask { try? await Task.sleep(for: .seconds(max(0.001, timeout))) }
            await group.next()
            group.cancelAll()
            self.wakeEndWaiters()
        }
    }

    private func wakeEndWaiters() {
        let wake = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            let waiters = s.endWaiters
            s.endWaiters = []
            return waiters
        }
        wake.forEach { $0.resume() }
    }

    func waitForOutcomes() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { s -> Bool in
                if !s.outbox.isEmpty || s.finished { return true }
                s.outboxWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns once every outcome produced so far has been written to the queue.
    func waitUntilSettled() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { s -> Bool in
                if (s.outbox.isEmpty && s.settling == 0) || s.finished { return true }
                s.settledWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
