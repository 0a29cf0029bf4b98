import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Redis
import Testing

/// Real worker processes (`optmazon-queue-probe`) against a real redis-server.
@Suite("Worker processes", .serialized)
struct ProcessTests {
    @Test("a worker killed with SIGKILL mid-job loses nothing: another takes the job over and it succeeds exactly once")
    func sigkillMidJob() async throws {
        let f = try await QueueFixture()
        let victim = try f.startProbe(concurrency: 1, visibility: 2)
        let jobID = try await f.enqueue(seller: "K1", args: ["sleep_ms": "4000"])
        try await eventually("the victim started the job") { try await f.hashInt(f.keys.probe("starts"), jobID) == 1 }
        victim.signal(SIGKILL)
        try await victim.wait()
        let rescuer = try f.startProbe(concurrency: 1, visibility: 2)
        try await eventually("the rescuer finished the job", timeout: 60) { try await f.hashInt(f.keys.probe("done"), jobID) == 1 }
        #expect(try await f.hashInt(f.keys.probe("starts"), jobID) == 2)
        #expect(try await f.hashInt(f.keys.probe("done"), jobID) == 1)
        rescuer.signal(SIGTERM)
        #expect(try await rescuer.wait() == 0)
        try await f.cleanup()
    }

    @Test("a long job renews its lease by heartbeat, so a second worker never steals it while it is alive")
    func heartbeatKeepsLease() async throws {
        let f = try await QueueFixture()
        let first = try f.startProbe(concurrency: 1, visibility: 1.5)
        let jobID = try await f.enqueue(seller: "L1", args: ["sleep_ms": "5000"])
        try await eventually("the first worker started the job") { try await f.hashInt(f.keys.probe("starts"), jobID) == 1 }
        let second = try f.startProbe(concurrency: 1, visibility: 1.5)
        try await eventually("the job finished", timeout: 60) { try await f.hashInt(f.keys.probe("done"), jobID) == 1 }
        #expect(try await f.hashInt(f.keys.probe("starts"), jobID) == 1, "the job must not have been started twice")
        for p in [first, second] { p.signal(SIGTERM) }
        for p in [first, second] { #expect(try await p.wait() == 0) }
        try await f.cleanup()
    }

    @Test("SIGTERM stops taking jobs, lets the in-flight job finish, and exits 0")
    func gracefulShutdown() async throws {
        let f = try await QueueFixture()
        let worker = try f.startProbe(concurrency: 1)
        let inFlight = try await f.enqueue(seller: "G1", args: ["sleep_ms": "1500"])
        try await eventually("the job started") { try await f.hashInt(f.keys.probe("starts"), inFlight) == 1 }
        let queued = try await f.enqueue(seller: "G2")
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: 30) == 0)
        #expect(try await f.hashInt(f.keys.probe("done"), inFlight) == 1, "the in-flight job finished before exit")
        #expect(try await f.hashInt(f.keys.probe("starts"), queued) == 0, "no new job was taken after SIGTERM")
        #expect(try await f.queue.status(kinds: [.fetch]).first?.streamLength == 1)
        try await f.cleanup()
    }

    @Test("SIGTERM with a job outlasting the grace period puts the job back, leased to no one, and exits 0")
    func graceExpiredRequeues() async throws {
        let f = try await QueueFixture()
        let worker = try f.startProbe(concurrency: 2, extra: ["OPTMAZON_WORKER_SHUTDOWN_GRACE": "0.5"])
        let jobID = try await f.enqueue(seller: "GR1", args: ["sleep_ms": "20000"])
        try await eventually("the job started") { try await f.hashInt(f.keys.probe("starts"), jobID) == 1 }
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: 15) == 0)
        let status = try #require(try await f.queue.status(kinds: [.fetch]).first)
        #expect(status.streamLength == 1 && status.pending == 0, "the job is back in the stream: \(status)")
        #expect(try await f.hashInt(f.keys.probe("done"), jobID) == 0)
        try await f.cleanup()
    }

    @Test("two worker processes never run two jobs of one seller at once")
    func exclusivityAcrossProcesses() async throws {
        let f = try await QueueFixture()
        let workers = try (0..<2).map { _ in try f.startProbe(concurrency: 4) }
        var ids: [String] = []
        for i in 0..<30 { ids.append(try await f.enqueue(seller: "X\(i % 3)", args: ["sleep_ms": "30"])) }
        try await eventually("all 30 jobs finished", timeout: 90) { try await f.hashLength(f.keys.probe("done")) == 30 }
        #expect(try await f.int(f.keys.probe("violations")) == 0)
        for p in workers { p.signal(SIGTERM) }
        for p in workers { #expect(try await p.wait() == 0) }
        try await f.cleanup()
    }

    @Test("--burst drains what is due, including jobs deferred behind a seller lock, then exits 0")
    func burst() async throws {
        let f = try await QueueFixture()
        for i in 0..<10 { try await f.enqueue(seller: "B\(i % 2)", args: ["sleep_ms": "20"]) }
        let worker = try f.startProbe(concurrency: 4, burst: true)
        #expect(try await worker.wait(timeout: 60) == 0)
        #expect(try await f.hashLength(f.keys.probe("done")) == 10)
        try await f.cleanup()
    }

    @Test("a Redis restart mid-run loses no job (AOF on); workers reconnect by themselves")
    func redisRestart() async throws {
        var server = try await RedisTestServer.start(appendOnly: true)
        defer { server.stop() }
        let f = try await QueueFixture(endpoint: server.endpoint)
        // The probe's own bookkeeping also talks to Redis, so its jobs fail while Redis is down; let them
        // keep retrying (at most 1 s apart) instead of exhausting their attempts during a slow restart.
        let worker = try f.startProbe(concurrency: 4, extra: ["OPTMAZON_RETRY_MAX_ATTEMPTS": "100", "OPTMAZON_RETRY_MAX_DELAY": "1"])
        for i in 0..<60 { try await f.enqueue(seller: "R\(i % 6)", args: ["sleep_ms": "25"]) }
        try await eventually("some jobs finished") { try await f.hashLength(f.keys.probe("done")) >= 5 }
        server = try await server.restarted()
        do {
            try await eventually("all 60 jobs finished after the restart", timeout: 120) {
                (try? await f.hashLength(f.keys.probe("done"))) == 60
            }
        } catch {
            let status = try? await f.queue.status(kinds: [.fetch]).first
            let dead = (try? await f.queue.deadJobs(limit: 5).map(\.reason)) ?? []
            Issue.record("\(error); status \(String(describing: status)); dead \(dead); worker log: \(worker.standardError.suffix(2_000))")
            throw error
        }
        worker.signal(SIGTERM)
        #expect(try await worker.wait() == 0)
    }

    @Test("bad CLI input and an unreachable Redis give one clear line and a non-zero exit, quickly")
    func cliErrors() async throws {
        let f = try await QueueFixture()
        let env = f.environment()
        let unknown = try await ProductProcess.run("optmazon", ["enqueue", "teleport", "--seller", "A1"], environment: env)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown job kind 'teleport'"))
        let missing = try await ProductProcess.run("optmazon", ["enqueue", "fetch"], environment: env)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--seller"))
        let started = Date()
        let down = try await ProductProcess.run("optmazon", ["status"], environment: env.merging(["OPTMAZON_REDIS_URL": "redis://127.0.0.1:\(try freeLoopbackPort())/0"]) { _, n in n })
        #expect(down.status != 0)
        #expect(down.stderr.contains("cannot connect"))
        #expect(down.stderr.split(separator: "\n").count == 1)
        #expect(Date().timeIntervalSince(started) < 5)
        let badConfig = try await ProductProcess.run("optmazon-fetcher", ["--burst"], environment: env.merging(["OPTMAZON_WORKER_CONCURRENCY": "many"]) { _, n in n })
        #expect(badConfig.status != 0)
        #expect(badConfig.stderr.contains("OPTMAZON_WORKER_CONCURRENCY"))
        let badFlag = try await ProductProcess.run("optmazon-fetcher", ["--concurrency", "0"], environment: env)
        #expect(badFlag.status != 0)
        #expect(badFlag.stderr.contains("--concurrency"))
    }

    @Test("enqueue, status and dead list|retry|drop work from the command line")
    func operatorCLI() async throws {
        let f = try await QueueFixture()
        let env = f.environment()
        let first = try await ProductProcess.run("optmazon", ["enqueue", "fetch", "--seller", "CLI1", "--unique-key", "k1"], environment: env)
        #expect(first.status == 0)
        #expect(first.stdout.contains("enqueued fetch job"))
        let second = try await ProductProcess.run("optmazon", ["enqueue", "fetch", "--seller", "CLI1", "--unique-key", "k1"], environment: env)
        #expect(second.stdout.contains("not enqueued"))
        let status = try await ProductProcess.run("optmazon", ["status", "--json"], environment: env)
        let report = try JSONDecoder().decode(StatusJSON.self, from: Data(status.stdout.utf8))
        #expect(report.kinds.first { $0.kind == "fetch" }?.streamLength == 1)

        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in throw JobError.permanent("broken on purpose") }).run()
        let list = try await ProductProcess.run("optmazon", ["dead", "list"], environment: env)
        #expect(list.stdout.contains("broken on purpose"))
        let deadID = try #require(try await f.queue.deadJobs(limit: 1).first?.deadID)
        #expect(try await ProductProcess.run("optmazon", ["dead", "retry", deadID], environment: env).status == 0)
        #expect(try await f.queue.deadJobs(limit: 10).isEmpty)
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in throw JobError.permanent("again") }).run()
        #expect(try await ProductProcess.run("optmazon", ["dead", "drop", "--all"], environment: env).status == 0)
        #expect(try await f.queue.deadJobs(limit: 10).isEmpty)
        try await f.cleanup()
    }

    struct StatusJSON: Decodable {
        var kinds: [KindStatus]
    }
}
