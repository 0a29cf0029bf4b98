import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Redis
import Scheduling
import SellerStore
import Testing

/// Two real `optmazon-scheduler` processes sharing a redis-server and a seller registry.
@Suite("Scheduler processes", .serialized)
struct ProcessFailoverTests {
    @Test("SIGKILL the leading scheduler process: the standby process takes over within the lease time and enqueues nothing twice; SIGTERM releases the lease")
    func failover() async throws {
        let root = try TemporaryDirectory.make(prefix: "scheduler")
        let master = MasterKey.generate()
        let storage = try SellerStorage(StoreLocations(dataDirectory: root.appendingPathComponent("data").path,
                                                       keyDirectory: root.appendingPathComponent("keys").path, masterKey: master))
        let control = try await storage.openControlStore()
        for i in 0..<10 {
            try await control.register(try SellerRegistration(sellerID: SellerID(rawValue: "PF\(i)")!, region: .na,
                                                              marketplaceIDs: ["ATVPDKIKX0DER"], spRefreshToken: Secret("Atzr|token-\(i)")),
                                       at: Date().addingTimeInterval(-3 * 86_400))
        }
        await control.close()
        let endpoint = try await SharedRedis.endpoint()
        let prefix = SharedRedis.uniquePrefix()
        let queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: quietLogger())
        let lease = RedisLeaderLease(client: queue.client, keys: queue.keys, ttl: 2)
        let environment = [
            "OPTMAZON_REDIS_URL": "redis://\(endpoint.host):\(endpoint.port)/0",
            "OPTMAZON_KEY_PREFIX": prefix,
            "OPTMAZON_DATA_DIR": root.appendingPathComponent("data").path,
            "OPTMAZON_KEY_DIR": root.appendingPathComponent("keys").path,
            "OPTMAZON_MASTER_KEY": master.base64EncodedSecret(),
            "OPTMAZON_MASTER_KEY_FILE": "",
            "OPTMAZON_LOG_LEVEL": "warning",
            "OPTMAZON_SCHEDULER_LEASE_SECONDS": "2",
            "OPTMAZON_SCHEDULER_TICK_SECONDS": "0.2",
            "OPTMAZON_SCHEDULER_SPREAD_SECONDS": "0",
            "OPTMAZON_SCHEDULER_CATCHUP_SPREAD_SECONDS": "0",
        ]
        let processes = try (0..<2).map { _ in try ProductProcess("optmazon-scheduler", environment: environment) }
        defer { for p in processes where p.isRunning { p.signal(SIGKILL) } }

        try await eventually("a scheduler process leads", timeout: 60) { try await lease.currentHolder() != nil }
        try await eventually("every seller's run is enqueued", timeout: 60) { try await queue.status(kinds: [.fetch]).first?.streamLength == 10 }
        let holder = try #require(try await lease.currentHolder())
        let leaderPID = Int32(holder.split(separator: ":")[1])
        let leader = try #require(processes.first { $0.pid == leaderPID }, "holder \(holder) is one of the two processes")
        let standby = try #require(processes.first { $0.pid != leaderPID })

        let late = try await storage.openControlStore()
        try await late.register(try SellerRegistration(sellerID: SellerID(rawValue: "PF10")!, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"],
                                                       spRefreshToken: Secret("Atzr|token-10")), at: Date().addingTimeInterval(-3 * 86_400))
        await late.close()
        leader.signal(SIGKILL)
        try await leader.wait()
        let died = Date()
        try await eventually("the standby process holds the lease", timeout: 60) {
            try await lease.currentHolder().map { $0.split(separator: ":")[1] == "\(standby.pid)" } == true
        }
        let takeover = Date().timeIntervalSince(died)
        #expect(takeover <= 2 + 3, "took over after \(takeover) s with a 2 s lease")
        try await eventually("the new leader scheduled the seller registered meanwhile", timeout: 60) {
            try await queue.status(kinds: [.fetch]).first?.streamLength == 11
        }
        #expect(try await queue.status(kinds: [.fetch]).first?.streamLength == 11, "the new leader enqueued none of the first 10 runs again")

        standby.signal(SIGTERM)
        #expect(try await standby.wait() == 0)
        #expect(try await lease.currentHolder() == nil, "a scheduler stopped by SIGTERM releases its lease")
        try await SharedRedis.deleteKeys(prefix: prefix)
        try? FileManager.default.removeItem(at: root)
    }
}
