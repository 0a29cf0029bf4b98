import Analysis
@testable import Analyzing
import Domain
import Foundation
import JobQueue
import SellerStore
import Testing

@Suite("analyze jobs over a real encrypted store")
struct AnalyzeJobTests {
    let job = JobEnvelope(kind: .analyze, seller: Synthetic.seller, arguments: ["day": Synthetic.day.rawValue])

    func handler(_ stores: TempStores, control: ControlStore) -> AnalyzeJobHandler {
        AnalyzeJobHandler(control: control, stores: SellerStoreCache(storage: stores.storage))
    }

    @Test("the known problems are found and stored, alerts wait pending, and exactly one alert job is enqueued")
    func findsKnownProblems() async throws {
        let scenario = try await AnalyzeScenario(problems: true)
        defer { scenario.stores.cleanup() }
        let (stores, control, store, queue) = (scenario.stores, scenario.control, scenario.store, scenario.queue)

        let summary = try await handler(stores, control: control).run(job, context: context(queue, job: job))

        let recommendations = try await store.rows(Recommendation.self, from: Synthetic.day, through: Synthetic.day)
        let rules = Set(recommendations.map(\.ruleID))
        #expect(rules.isSuperset(of: ["listing.title.length", "listing.backend.bytes", "pricing.buybox.lost",
                                      "ads.bid.no_orders", "ads.harvest.exact"]), "\(rules.sorted())")
        let title = try #require(recommendations.first { $0.ruleID == "listing.title.length" })
        #expect(title.evidence.contains(Evidence("characters", "230")))
        let backend = try #require(recommendations.first { $0.ruleID == "listing.backend.bytes" })
        #expect(backend.evidence.contains(Evidence("bytes", "260")))
        #expect(recommendations.first { $0.ruleID == "ads.bid.no_orders" }?.subject == "glass bottle [K3]")
        #expect(recommendations.first { $0.ruleID == "ads.harvest.exact" }?.subject == "kids water bottle")

        let alerts = try await store.undeliveredAlerts(limit: 100)
        let kinds = Set(alerts.map(\.kind))
        #expect(kinds.isSuperset(of: ["buybox.lost", "listing.title.changed", "listing.backend.changed"]), "\(kinds.sorted())")
        #expect(alerts.allSatisfy { $0.state == .pending && $0.attempts == 0 })
        #expect(summary.recommendations == recommendations.count)
        #expect(summary.alerts == alerts.count)

        let status = try await queue.status(kinds: [.alert])
        #expect(status.first?.streamLength == 1)
        let queued = try await queue.dequeue(kinds: [.alert], consumer: "test", max: 10, wait: 0)
        #expect(queued.count == 1)
        #expect(queued.first?.envelope?.seller == Synthetic.seller)
        #expect(queued.first?.envelope?.arguments["day"] == Synthetic.day.rawValue)
        await store.close()
    }

    @Test("a clean seller gets no recommendation, no alert and no alert job")
    func cleanSellerNoFalseAlarms() async throws {
        let scenario = try await AnalyzeScenario(problems: false)
        defer { scenario.stores.cleanup() }
        let (stores, control, store, queue) = (scenario.stores, scenario.control, scenario.store, scenario.queue)

        try await handler(stores, control: control).handle(job, context: context(queue, job: job))

        let recommendations = try await store.rows(Recommendation.self)
        #expect(recommendations.isEmpty, "\(recommendations.map(\.ruleID))")
        #expect(try await store.count(Alert.self) == 0)
        #expect(try await queue.status(kinds: [.alert]).first?.streamLength == 0)
        await store.close()
    }

    @Test("a revoked seller is skipped: nothing stored, not even a store file, and no alert job")
    func revokedSellerStoresNothing() async throws {
        let stores = try TempStores()
        defer { stores.cleanup() }
        let control = try await stores.register(Synthetic.seller, settings: Synthetic.settings)
        try await control.setStatus(of: Synthetic.seller, to: .revoked)
        let queue = InMemoryJobQueue()

        let summary = try await handler(stores, control: control).run(job, context: context(queue, job: job))

        #expect(summary.skipped)
        #expect(!FileManager.default.fileExists(atPath: stores.storage.databasePath(for: Synthetic.seller)))
        #expect(try await queue.status(kinds: [.alert]).first?.streamLength == 0)
    }

    @Test("a seller revoked after its data was fetched gets no findings written")
    func revokedWithDataStoresNothing() async throws {
        let stores = try TempStores()
        defer { stores.cleanup() }
        let control = try await stores.register(Synthetic.seller, settings: Synthetic.settings)
        let store = try await stores.storage.openSeller(Synthetic.seller)
        try await Synthetic.fill(store, problems: true)
        try await control.setStatus(of: Synthetic.seller, to: .revoked)
        let queue = InMemoryJobQueue()

        try await handler(stores, control: control).handle(job, context: context(queue, job: job))

        #expect(try await store.count(Recommendation.self) == 0)
        #expect(try await store.count(Alert.self) == 0)
        #expect(try await queue.status(kinds: [.alert]).first?.streamLength == 0)
        await store.close()
    }

    @Test("re-running the same day replaces rows, keeps delivered alerts delivered, and enqueues no second alert job")
    func idempotentRerun() async throws {
        let scenario = try await AnalyzeScenario(problems: true)
        defer { scenario.stores.cleanup() }
        let (stores, control, store, queue) = (scenario.stores, scenario.control, scenario.store, scenario.queue)
        let handler = handler(stores, control: control)

        let first = try await handler.run(job, context: context(queue, job: job))
        let recommendationsBefore = try await store.rows(Recommendation.self).sorted { $0.id < $1.id }
        let alertsBefore = try await store.rows(Alert.self).sorted { $0.id < $1.id }
        let delivered = try #require(alertsBefore.first)
        try await store.markAlert(id: delivered.id, state: .delivered)

        let retry = JobEnvelope(kind: .analyze, seller: Synthetic.seller, arguments: ["day": Synthetic.day.rawValue], attempt: 1)
        let second = try await handler.run(retry, context: context(queue, job: retry))

        #expect(first.alertJobEnqueued)
        #expect(!second.alertJobEnqueued, "the alert job of the day is unique")
        let recommendationsAfter = try await store.rows(Recommendation.self).sorted { $0.id < $1.id }
        #expect(recommendationsAfter == recommendationsBefore)
        let alertsAfter = try await store.rows(Alert.self).sorted { $0.id < $1.id }
        #expect(alertsAfter.map(\.id) == alertsBefore.map(\.id))
        #expect(alertsAfter.first { $0.id == delivered.id }?.state == .delivered)
        #expect(try await queue.status(kinds: [.alert]).first?.streamLength == 1)
        await store.close()
    }

    @Test("an unknown seller and a malformed day fail permanently with one clear line")
    func permanentFailures() async throws {
        let stores = try TempStores()
        defer { stores.cleanup() }
        let control = try await stores.storage.openControlStore()
        let queue = InMemoryJobQueue()
        do {
            try await handler(stores, control: control).handle(job, context: context(queue, job: job))
            Issue.record("an unknown seller must fail")
        } catch let error as JobError {
            #expect(!error.retryable)
            #expect(error.message == "analyze for seller A1SYNTHETIC (day 2025-06-30): the seller is not registered; nothing analyzed")
        }
        let bad = JobEnvelope(kind: .analyze, seller: Synthetic.seller, arguments: ["day": "2025-13-40"])
        #expect(throws: AnalyzeError(seller: Synthetic.seller, day: nil, reason: .badDay("2025-13-40"))) {
            try AnalyzeJobHandler.analysisDay(of: bad)
        }
        #expect(!FileManager.default.fileExists(atPath: stores.storage.databasePath(for: Synthetic.seller)))
    }

    @Test("the loader compares the newest snapshot with the previous one, skipping days without snapshots")
    func loaderNewestAndPrevious() async throws {
        let stores = try TempStores()
        defer { stores.cleanup() }
        let store = try await stores.storage.openSeller(Synthetic.seller)
        // Snapshots on day -5, -3 and 0; a snapshot after the analysis day is ignored.
        try await store.save([Synthetic.listing(day: Synthetic.d(-5), title: "oldest"), Synthetic.listing(day: Synthetic.d(-3), title: "previous"),
                              Synthetic.listing(day: Synthetic.day, title: "newest"), Synthetic.listing(day: Synthetic.d(1), title: "future")])
        let input = try await AnalysisInputLoader().load(from: store, settings: Synthetic.settings, day: Synthetic.day)
        #expect(input.listings.map(\.title) == ["newest"])
        #expect(input.previousListings.map(\.title) == ["previous"])
        #expect(input.sellerID == Synthetic.seller)
        await store.close()
    }
}
