import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import PipelineTesting
import Redis
import Scheduling
import SellerStore
import ServiceLifecycle
import Testing

/// One leading scheduler at a time, sharing a real redis-server.
@Suite("Scheduler leader lease", .serialized)
struct FailoverTests {
    static let config = SchedulerConfiguration(fetchHour: 0, spreadSeconds: 0, catchUpSpreadSeconds: 0, catchUpGraceSeconds: 86_400,
                                               leaseSeconds: 2, tickSeconds: 0.1, sellerRefreshSeconds: 0)

    struct Instance {
        let service: SchedulerService
        let lease: RedisLeaderLease
        let task: Task<Void, any Error>
    }

    func start(queue: RedisJobQueue, directory: StaticDirectory, name: String) -> Instance {
        let scheduler = Scheduler(queue: queue, directory: directory, configuration: Self.config, logger: quietLogger())
        let lease = RedisLeaderLease(client: RedisClient(endpoint: queue.client.endpoint, label: name), keys: queue.keys,
                                     ttl: Self.config.leaseSeconds, holder: name)
        let service = SchedulerService(scheduler: scheduler, lease: lease, logger: quietLogger())
        return Instance(service: service, lease: lease, task: Task { try await service.run() })
    }

    @Test("two schedulers in one Redis: one leads; when it dies without releasing, the standby takes over within the lease time; runs are enqueued once")
    func inProcessFailover() async throws {
        let endpoint = try await SharedRedis.endpoint()
        let prefix = SharedRedis.uniquePrefix()
        let queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: quietLogger())
        let directory = StaticDirectory((0..<20).map { seller("FO\($0)") })
        let a = start(queue: queue, directory: directory, name: "a")
        let b = start(queue: queue, directory: directory, name: "b")
        try await eventually("one scheduler leads", timeout: 30) { a.service.isLeader || b.service.isLeader }
        try await eventually("the runs are enqueued", timeout: 30) { try await queue.status(kinds: [.fetch]).first?.streamLength == 20 }
        let holder = try await a.lease.currentHolder()
        #expect(holder == "a" || holder == "b")
        let (leader, standby) = holder == "a" ? (a, b) : (b, a)
        #expect(!standby.service.isLeader, "the standby does not think it leads")

        leader.task.cancel()  // stops without releasing: as if the process died
        _ = await leader.task.result
        let died = Date()
        directory.replace((0..<21).map { seller("FO\($0)") })
        try await eventually("the standby took over", timeout: 30) { standby.service.isLeader }
        let takeover = Date().timeIntervalSince(died)
        #expect(takeover <= Self.config.leaseSeconds + 3, "took over after \(takeover) s")
        #expect(try await standby.lease.currentHolder() == standby.lease.holder)
        try await eventually("the new leader scheduled the seller registered meanwhile", timeout: 30) {
            try await queue.status(kinds: [.fetch]).first?.streamLength == 21
        }
        #expect(try await queue.status(kinds: [.fetch]).first?.streamLength == 21, "the new leader enqueued none of the first 20 runs again")
        standby.task.cancel()
        _ = await standby.task.result
        try await SharedRedis.deleteKeys(prefix: prefix)
    }

    @Test("a leader shut down gracefully releases the lease at once")
    func gracefulRelease() async throws {
        let endpoint = try await SharedRedis.endpoint()
        let prefix = SharedRedis.uniquePrefix()
        let queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: quietLogger())
        let scheduler = Scheduler(queue: queue, directory: StaticDirectory([]), configuration: Self.config, logger: quietLogger())
        let lease = RedisLeaderLease(client: queue.client, keys: queue.keys, ttl: 30, holder: "graceful")
        let service = SchedulerService(scheduler: scheduler, lease: lease, logger: quietLogger())
        let group = ServiceGroup(services: [service], logger: quietLogger())
        let running = Task { try await group.run() }
        try await eventually("it leads", timeout: 30) { service.isLeader }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(try await lease.currentHolder() == nil, "released, not left to expire after 30 s")
        try await SharedRedis.deleteKeys(prefix: prefix)
    }
}
