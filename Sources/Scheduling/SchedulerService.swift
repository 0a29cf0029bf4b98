public import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The scheduler as a swift-service-lifecycle `Service`: one leader at a time, the others hot standbys.
///
/// Every instance tries to take or renew the lease four times per lease period; the holder runs
/// the ``Scheduler`` every tick.
/// A leader that cannot renew stops scheduling once its lease has expired locally; a standby
/// takes over within the lease time after the leader dies. On graceful shutdown the leader
/// releases the lease so a standby takes over at once; on cancellation (a crash, in effect)
/// it does not.
public final class SchedulerService: Service {
    private let scheduler: Scheduler
    private let lease: any LeaderLease
    private let configuration: SchedulerConfiguration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let leading = Mutex(LeaseState())

    public init(scheduler: Scheduler, lease: any LeaderLease, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.scheduler = scheduler
        self.lease = lease
        self.configuration = scheduler.plan.configuration
        var logger = logger
        logger[metadataKey: "scheduler"] = "\(lease.holder)"
        self.logger = logger
        self.now = now
    }

    /// Whether this instance currently leads.
    public var isLeader: Bool { leading.withLock { $0.leading } }

    public func run() async throws {
        logger.info("scheduler started as standby", metadata: ["lease_s": "\(configuration.leaseSeconds)"])
        // The lease is renewed by its own loop, so a long tick (a first tick over thousands of
        // sellers) never lets it lapse while this instance is alive.
        await withDiscardingTaskGroup { group in
            group.addTask { await self.leaseLoop() }
            group.addTask { await self.tickLoop() }
        }
        if isLeader && Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await lease.release()
            logger.notice("released the scheduler lease")
        }
        leading.withLock { $0 = LeaseState() }
        logger.info("scheduler stopped")
    }

    private struct LeaseState {
        var leading = false
        var validUntil = Date.distantPast
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    private func leaseLoop() async {
        let pause = configuration.leaseSeconds / 4
        while !stopping {
            let attemptAt = now()
            do {
                let held = try await lease.acquireOrRenew()
                let was = leading.withLock { state -> Bool in
                    let was = state.leading
                    if held { state.validUntil = attemptAt.addingTimeInterval(configuration.leaseSeconds) }
                    state.leading = held
                    return was
                }
                if held && !was { logger.notice("became the leading scheduler") }
                if !held && was { logger.warning("lost the scheduler lease to another instance") }
            } catch {
                logger.warning("scheduler lease unavailable", metadata: ["error": "\(error)"])
                let lost = leading.withLock { state -> Bool in
                    guard state.leading, now() >= state.validUntil else { return false }
                    state.leading = false
                    return true
                }
                if lost { logger.warning("stopped scheduling: the lease expired without renewal") }
            }
            try? await Task.sleep(for: .seconds(pause))
        }
    }

    private func tickLoop() async {
        while !stopping {
            let mayTick = leading.withLock { $0.leading && now() < $0.validUntil }
            if mayTick {
                do {
                    try await scheduler.tick()
                } catch {
                    logger.warning("scheduler tick failed, will retry", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .seconds(configuration.tickSeconds))
        }
    }
}
