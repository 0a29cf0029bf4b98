import Domain
import Foundation
import JobQueue
import Logging
import PipelineTesting
import Privacy
import Scheduling
import SellerStore
import Testing

@Suite("Scheduler ticks")
struct SchedulerTests {
    /// 02:00 local, no spread, a minute's catch-up grace: slot times are exact.
    static let config = SchedulerConfiguration(fetchHour: 2, spreadSeconds: 0, catchUpSpreadSeconds: 600, catchUpGraceSeconds: 60,
                                               retentionHourUTC: 4, sellerRefreshSeconds: 0, wipeCheckSeconds: 300)

    func make(_ sellers: [ScheduledSeller], clock: TestClock, queue: InMemoryJobQueue? = nil,
              config: SchedulerConfiguration = SchedulerTests.config, logger: Logger = quietLogger()) -> (Scheduler, InMemoryJobQueue) {
        let queue = queue ?? InMemoryJobQueue(now: clock.now)
        return (Scheduler(queue: queue, directory: StaticDirectory(sellers), configuration: config, logger: logger, now: clock.now), queue)
    }

    @Test("each seller's nightly run is enqueued once per local day, however many ticks and schedulers there are")
    func uniquePerDay() async throws {
        let clock = TestClock(date("2026-01-15T10:00:30Z"))  // 02:00:30 in Los Angeles
        let sellers = [seller("US1"), seller("US2")]
        let (first, queue) = make(sellers, clock: clock)
        let (second, _) = make(sellers, clock: clock, queue: queue)
        let report = try await first.tick()
        #expect(report.fetches == [SellerID(rawValue: "US1")!: Day(rawValue: "2026-01-15")!, SellerID(rawValue: "US2")!: Day(rawValue: "2026-01-15")!])
        #expect(try await second.tick().duplicates == 4, "fetch and retention of both sellers were already enqueued")
        clock.set(date("2026-01-15T18:00:00Z"))
        #expect(try await first.tick().fetches.isEmpty)
        let jobs = try await drain(queue, kinds: [.fetch])
        #expect(jobs.count == 2)
        #expect(jobs.allSatisfy { $0.arguments["day"] == "2026-01-15" && $0.arguments["trigger"] == "schedule" })

        clock.set(date("2026-01-16T10:00:30Z"))
        let nextNight = try await second.tick()
        #expect(nextNight.fetches.count == 2 && nextNight.fetches.values.allSatisfy { $0 == Day(rawValue: "2026-01-16") })
    }

    @Test("time zones are honoured: at one instant Tokyo's run is due and Los Angeles' is not")
    func timeZones() async throws {
        let clock = TestClock(date("2026-01-14T17:00:30Z"))  // 02:00:30 in Tokyo, 09:00:30 the day before in Los Angeles
        let (scheduler, queue) = make([seller("JP1", "A1VC38T7YXB528"), seller("US1")], clock: clock)
        let report = try await scheduler.tick()
        #expect(report.fetches[SellerID(rawValue: "JP1")!] == Day(rawValue: "2026-01-15"))
        #expect(report.fetches[SellerID(rawValue: "US1")!] == nil)
        #expect(report.catchUps[SellerID(rawValue: "US1")!] == Day(rawValue: "2026-01-14"), "LA's run of its 14th was missed: a catch-up")
        #expect(try await drain(queue, kinds: [.fetch]).count == 2)
    }

    @Test("catch-up: a scheduler started after a night it missed enqueues the missed runs once, spread from now")
    func catchUp() async throws {
        let start = date("2026-01-15T17:00:00Z")  // 09:00 in Los Angeles, seven hours after the 02:00 slot
        let clock = TestClock(start)
        let config = SchedulerConfiguration(fetchHour: 2, spreadSeconds: 3600, catchUpSpreadSeconds: 600, catchUpGraceSeconds: 60, sellerRefreshSeconds: 0)
        let sellers = (0..<50).map { seller("CU\($0)") } + [seller("NEW1", createdAt: date("2026-01-15T16:00:00Z"))]
        let (scheduler, queue) = make(sellers, clock: clock, config: config)
        let report = try await scheduler.tick()
        #expect(report.catchUps.count == 50, "every missed run once; the seller registered after its slot is left to onboarding")
        #expect(report.fetches.isEmpty)
        let status = try await queue.status(kinds: [.fetch]).first!
        #expect(status.delayed + status.streamLength == 50)
        #expect(status.delayed > 40, "catch-ups are spread over the next 600 s, not all at once")

        let (restarted, _) = make(sellers, clock: clock, queue: queue, config: config)
        #expect(try await restarted.tick().catchUps.isEmpty, "a second start does not enqueue them again")
        let jobs = try await drain(queue, kinds: [.fetch])
        #expect(jobs.count == 50 && jobs.allSatisfy { $0.arguments["trigger"] == "catch-up" && $0.arguments["day"] == "2026-01-15" })
    }

    @Test("each seller's retention sweep is enqueued daily at the configured UTC hour, revoked sellers included")
    func dailyRetention() async throws {
        let clock = TestClock(date("2026-01-15T04:00:10Z"))
        let (scheduler, queue) = make([seller("R1"), seller("R2", status: .revoked, revokedAt: date("2026-01-15T03:00:00Z"))], clock: clock)
        #expect(try await scheduler.tick().retentions.count == 2)
        clock.set(date("2026-01-15T23:00:00Z"))
        #expect(try await scheduler.tick().retentions.isEmpty)
        clock.set(date("2026-01-16T04:00:10Z"))
        #expect(try await scheduler.tick().retentions.count == 2)
        let jobs = try await drain(queue, kinds: [.retention])
        #expect(jobs.count == 4)
        #expect(Set(jobs.compactMap { $0.arguments["day"] }) == ["2026-01-15", "2026-01-16"])
    }

    @Test("revoked sellers get a wipe job; one not wiped within the target raises an operator alert log line")
    func overdueWipes() async throws {
        let clock = TestClock(date("2026-01-15T12:00:00Z"))
        let logs = CapturedLogs()
        let sellers = [
            seller("LATE1", status: .revoked, revokedAt: date("2026-01-13T12:00:00Z")),
            seller("FRESH1", status: .revoked, revokedAt: date("2026-01-15T11:00:00Z")),
            seller("OK1"),
        ]
        let (scheduler, queue) = make(sellers, clock: clock, logger: logs.logger)
        let report = try await scheduler.tick()
        #expect(Set(report.wipes.map(\.rawValue)) == ["LATE1", "FRESH1"])
        #expect(report.overdueWipes.map(\.sellerID.rawValue) == ["LATE1"])
        let alerts = logs.messages(at: .error).filter { $0.metadata["alert"] == "wipe_overdue" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.metadata["seller"] == "LATE1")
        #expect(alerts.first?.metadata["overdue_hours"] == "24")

        clock.set(date("2026-01-15T12:06:00Z"))
        let again = try await scheduler.tick()
        #expect(again.wipes.isEmpty, "the queued wipe holds its unique key")
        #expect(logs.messages(at: .error).count == 1, "the alert is not repeated every check")
        let wipes = try await drain(queue, kinds: [.wipe])
        #expect(wipes.count == 2 && wipes.allSatisfy { $0.arguments["trigger"] == "revocation" })
    }
}
