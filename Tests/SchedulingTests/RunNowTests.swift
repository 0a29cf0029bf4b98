import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import SellerStore
import Testing

@Suite("optmazon run-now", .serialized)
struct RunNowTests {
    @Test("run-now enqueues a seller's fetch at once, refuses a double within a minute, and refuses a revoked seller")
    func runNow() async throws {
        let root = try TemporaryDirectory.make(prefix: "runnow")
        let master = MasterKey.generate()
        let storage = try SellerStorage(StoreLocations(dataDirectory: root.appendingPathComponent("data").path,
                                                       keyDirectory: root.appendingPathComponent("keys").path, masterKey: master))
        let control = try await storage.openControlStore()
        for raw in ["RN1", "RN2"] {
            try await control.register(try SellerRegistration(sellerID: SellerID(rawValue: raw)!, region: .fe, marketplaceIDs: ["A1VC38T7YXB528"],
                                                              spRefreshToken: Secret("Atzr|t")))
        }
        try await control.setStatus(of: SellerID(rawValue: "RN2")!, to: .revoked)
        let endpoint = try await SharedRedis.endpoint()
        let prefix = SharedRedis.uniquePrefix()
        let queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), logger: quietLogger())
        let env = [
            "OPTMAZON_REDIS_URL": "redis://\(endpoint.host):\(endpoint.port)/0", "OPTMAZON_KEY_PREFIX": prefix,
            "OPTMAZON_DATA_DIR": root.appendingPathComponent("data").path, "OPTMAZON_KEY_DIR": root.appendingPathComponent("keys").path,
            "OPTMAZON_MASTER_KEY": master.base64EncodedSecret(), "OPTMAZON_MASTER_KEY_FILE": "",
        ]
        let first = try await ProductProcess.run("optmazon", ["run-now", "--seller", "RN1"], environment: env)
        #expect(first.status == 0 && first.stdout.contains("enqueued fetch job"), "\(first.stderr)")
        let second = try await ProductProcess.run("optmazon", ["run-now", "--seller", "RN1"], environment: env)
        #expect(second.status == 0 && second.stdout.contains("not enqueued again"))
        let revoked = try await ProductProcess.run("optmazon", ["run-now", "--seller", "RN2"], environment: env)
        #expect(revoked.status != 0 && revoked.stderr.contains("revoked"))
        let all = try await ProductProcess.run("optmazon", ["run-now"], environment: env)
        #expect(all.status == 0 && all.stdout.contains("a run-now was enqueued less than a minute ago"), "only RN1 is active, and it ran just now")
        try await queue.prepare(kinds: [.fetch])
        let jobs = try await queue.dequeue(kinds: [.fetch], consumer: "test", max: 10, wait: 0).compactMap(\.envelope)
        #expect(jobs.count == 1)
        #expect(jobs.first?.seller.rawValue == "RN1" && jobs.first?.arguments["trigger"] == "run-now")
        #expect(jobs.first?.arguments["day"] == Day(Date(), timeZone: TimeZone(identifier: "Asia/Tokyo")!).rawValue)
        await control.close()
        try await SharedRedis.deleteKeys(prefix: prefix)
        try? FileManager.default.removeItem(at: root)
    }
}
