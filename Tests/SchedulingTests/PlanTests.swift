import Domain
import Foundation
import Scheduling
import Testing

@Suite("Nightly plan")
struct PlanTests {
    let plan = NightlyPlan(configuration: SchedulerConfiguration(fetchHour: 2, spreadSeconds: 0))

    @Test("a seller's run is at the configured local hour of its home marketplace's IANA time zone, DST included")
    func localHour() {
        let us = seller("US1", "ATVPDKIKX0DER")
        let jp = seller("JP1", "A1VC38T7YXB528")
        let de = seller("DE1", "A1PA6795UKMFR9")
        let winter = Day(rawValue: "2026-01-15")!, summer = Day(rawValue: "2026-07-15")!
        #expect(plan.fetchSlot(for: us, on: winter) == date("2026-01-15T10:00:00Z"), "02:00 PST")
        #expect(plan.fetchSlot(for: us, on: summer) == date("2026-07-15T09:00:00Z"), "02:00 PDT")
        #expect(plan.fetchSlot(for: jp, on: winter) == date("2026-01-14T17:00:00Z"), "02:00 JST")
        #expect(plan.fetchSlot(for: de, on: summer) == date("2026-07-15T00:00:00Z"), "02:00 CEST")
    }

    @Test("per-marketplace hours override the default, by country code or marketplace id")
    func perMarketplaceHour() throws {
        let config = try SchedulerConfiguration(raw: ["scheduler.fetch.hour": "3", "scheduler.fetch.hours": "JP=5, A1PA6795UKMFR9=1"])
        let plan = NightlyPlan(configuration: config)
        #expect(plan.fetchHour(for: seller("A", "A1VC38T7YXB528")) == 5)
        #expect(plan.fetchHour(for: seller("B", "A1PA6795UKMFR9")) == 1)
        #expect(plan.fetchHour(for: seller("C", "ATVPDKIKX0DER")) == 3)
        #expect(throws: SchedulerConfigError.self) { try SchedulerConfiguration(raw: ["scheduler.fetch.hour": "24"]) }
    }

    @Test("runs are spread over the window, each seller at a stable offset")
    func spread() {
        let offsets = (0..<1000).map { NightlyPlan.offset(of: SellerID(rawValue: "SELLER\($0)")!, within: 3600) }
        #expect(offsets.allSatisfy { (0..<3600).contains($0) })
        #expect(Set(offsets).count > 600, "offsets are spread, not bunched")
        #expect(NightlyPlan.offset(of: SellerID(rawValue: "SELLER1")!, within: 3600) == offsets[1])
        #expect(offsets.filter { $0 < 1800 }.count > 400 && offsets.filter { $0 >= 1800 }.count > 400)
    }

    @Test("the latest slot is today's once it has passed, yesterday's before")
    func latestSlot() {
        let us = seller("US1")
        #expect(plan.latestFetchSlot(for: us, at: date("2026-01-15T09:59:00Z")).day == Day(rawValue: "2026-01-14"))
        #expect(plan.latestFetchSlot(for: us, at: date("2026-01-15T10:00:00Z")).day == Day(rawValue: "2026-01-15"))
    }
}
