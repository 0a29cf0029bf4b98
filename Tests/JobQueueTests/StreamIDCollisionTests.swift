import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Synchronization
import Testing

/// Redis hands out stream entry ids per stream, so jobs of different kinds enqueued in one batch share an id.
/// A worker consuming several kinds must still see them as different jobs.
@Suite("Jobs of different kinds with the same stream entry id", .serialized)
struct StreamIDCollisionTests {
    @Test("are each settled once, never run together for one seller, and a burst worker waits for all of them")
    func sameEntryIDAcrossKinds() async throws {
        let f = try await QueueFixture()
        let kinds: [JobKind] = [.fetchListings, .fetchTraffic, .fetchAds]
        try await f.queue.prepare(kinds: kinds)
        // One entry id in all three streams, as a fan-out script writing them in one millisecond gives
        // (written explicitly here: separate commands would share it only if the clock did not tick).
        for kind in kinds {
            let job = JobEnvelope(kind: kind, seller: SellerID(rawValue: "COLLIDE1")!)
            _ = try await f.redis.send(["XADD", f.keys.stream(kind), "1764460000000-0", "job", job.encoded()])
        }
        let ids = try await kinds.asyncMap { kind in
            try await f.redis.send(["XRANGE", f.keys.stream(kind), "-", "+"]).array?.first?.array?.first?.string ?? ""
        }
        try #require(Set(ids).count == 1, "the premise: the three streams hold the same entry id, got \(ids)")

        let running = Mutex((now: 0, most: 0))
        let finished = Recorder<JobKind>()
        let handler = RecordingHandler { job in
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            try await Task.sleep(for: .milliseconds(150))
            running.withLock { $0.now -= 1 }
            await finished.append(job.kind)
        }
        try await JobWorker.forTest(queue: f.queue, kinds: kinds, concurrency: 4, handler: handler).run()

        #expect(await Set(finished.items) == Set(kinds), "the burst worker ran every job before it stopped")
        #expect(await finished.count == 3, "each exactly once")
        #expect(running.withLock { $0.most } == 1, "one seller's jobs never overlap, whatever their kind")
        let status = try await f.queue.status(kinds: kinds)
        #expect(status.allSatisfy { $0.streamLength == 0 && $0.pending == 0 }, "every job was acknowledged: \(status)")
        try await f.cleanup()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
