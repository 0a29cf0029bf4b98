import Analysis
import Domain
import Foundation
import JobQueue
import Logging
import SellerStore

/// Settings of the analyze handler.
public struct AnalyzeConfiguration: Sendable {
    /// The rule thresholds of the engine.
    public var analysis: AnalysisConfig
    /// What is read from the store (history window, change-detection look-back).
    public var loader: AnalysisInputLoader
    /// How long the follow-up alert job's unique key (`alert:<seller>:<day>`) refuses a second one, seconds.
    public var alertJobUniqueSeconds: Double

    public init(analysis: AnalysisConfig = AnalysisConfig(), loader: AnalysisInputLoader = AnalysisInputLoader(),
                alertJobUniqueSeconds: Double = 24 * 3600) {
        self.analysis = analysis
        self.loader = loader
        self.alertJobUniqueSeconds = alertJobUniqueSeconds
    }
}

/// Consumes `analyze` jobs: reads the seller's settings and store, runs the ``Analysis/Analyzer``, writes
/// recommendations and pending alerts to the store, and enqueues one `alert` job when alerts wait for delivery.
///
/// Job arguments: `day` (`YYYY-MM-DD`, the analysis day; default the UTC day the job was first enqueued, stable
/// across retries). Idempotent per seller and day: ids are stable hashes of rule, subject and day, so a re-run
/// replaces the same rows, and an alert already delivered keeps its delivery state. A revoked seller is skipped
/// before its store is opened, so nothing is read or stored for it.
public struct AnalyzeJobHandler: JobHandler {
    let control: ControlStore
    let stores: SellerStoreCache
    let configuration: AnalyzeConfiguration
    let rewriter: (any ListingRewriter)?

    /// - Parameter rewriter: the external (AI) rewriter, or nil for the deterministic rule-based rewrite.
    public init(control: ControlStore, stores: SellerStoreCache, configuration: AnalyzeConfiguration = AnalyzeConfiguration(),
                rewriter: (any ListingRewriter)? = nil) {
        self.control = control
        self.stores = stores
        self.configuration = configuration
        self.rewriter = rewriter
    }

    /// The unique-job key of a seller's alert job for one analysis day: one alert job per seller and day.
    public static func alertUniqueKey(seller: SellerID, day: Day) -> String {
        "alert:\(seller.rawValue):\(day.rawValue)"
    }

    /// The analysis day of `job`: its `day` argument, else the UTC day it was first enqueued.
    public static func analysisDay(of job: JobEnvelope) throws(AnalyzeError) -> Day {
        if let raw = job.arguments["day"] {
            guard let day = Day(rawValue: raw) else { throw AnalyzeError(seller: job.seller, day: nil, reason: .badDay(raw)) }
            return day
        }
        return Day(Date(timeIntervalSince1970: Double(job.enqueuedAt) / 1000))
    }

    /// Closes the registry and every cached seller store; the worker process calls it once the worker stopped.
    public func close() async {
        await stores.closeAll()
        await control.close()
    }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        do throws(AnalyzeError) {
            try await run(job, context: context)
        } catch {
            throw error.jobError
        }
    }

    /// What one run did, for logs and tests.
    public struct Summary: Sendable, Equatable {
        public var recommendations: Int
        public var alerts: Int
        public var alertJobEnqueued: Bool
        /// True when the seller was revoked and nothing was read or stored.
        public var skipped: Bool
    }

    @discardableResult
    func run(_ job: JobEnvelope, context: JobContext) async throws(AnalyzeError) -> Summary {
        let day = try Self.analysisDay(of: job)
        guard let settings = try await activeSettings(job.seller, day: day) else {
            context.logger.notice("seller revoked; nothing analyzed or stored", metadata: ["day": "\(day)"])
            return Summary(recommendations: 0, alerts: 0, alertJobEnqueued: false, skipped: true)
        }
        let started = ContinuousClock.now
        let input = try await withStore(job.seller, day: day) { store in
            try await configuration.loader.load(from: store, settings: settings, day: day)
        }
        let analyzer = Analyzer(config: configuration.analysis)
        let result: AnalysisResult
        if let rewriter {
            result = await analyzer.analyze(input, rewriter: rewriter)
        } else {
            result = analyzer.analyze(input)
        }
        // Checked again right before writing: a seller revoked while we analyzed gets nothing stored.
        guard try await activeSettings(job.seller, day: day) != nil else {
            context.logger.notice("seller revoked during analysis; nothing stored", metadata: ["day": "\(day)"])
            return Summary(recommendations: 0, alerts: 0, alertJobEnqueued: false, skipped: true)
        }
        let pending = try await withStore(job.seller, day: day) { store -> Bool in
            try await Self.saveFindings(result, in: store)
            return try await !store.undeliveredAlerts(limit: 1).isEmpty
        }
        var enqueued = false
        if pending {
            let alertJob = JobEnvelope(kind: .alert, seller: job.seller, arguments: ["day": day.rawValue], traceID: job.traceID)
            do {
                let answer = try await context.queue.enqueue(alertJob, at: nil, uniqueKey: Self.alertUniqueKey(seller: job.seller, day: day),
                                                             uniqueFor: configuration.alertJobUniqueSeconds)
                if case .enqueued = answer { enqueued = true }
            } catch {
                throw AnalyzeError(seller: job.seller, day: day, reason: .queue("\(error)"))
            }
        }
        let rewritesRejected = result.rewrites.filter { $0.rejectedReason != nil }.count
        context.logger.info("analysis stored", metadata: [
            "day": "\(day)", "recommendations": "\(result.recommendations.count)", "alerts": "\(result.alerts.count)",
            "rewrites": "\(result.rewrites.count)", "ai_rewrites_rejected": "\(rewritesRejected)",
            "alert_job": "\(pending ? (enqueued ? "enqueued" : "already queued") : "none")",
            "elapsed_ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
        ])
        return Summary(recommendations: result.recommendations.count, alerts: result.alerts.count, alertJobEnqueued: enqueued, skipped: false)
    }

    /// Writes the day's recommendations and alerts in one transaction.
    ///
    /// The recommendations replace the day's earlier ones (a re-run after new data leaves no stale advice);
    /// alerts keep the delivery state an earlier run of the day already stored, so nothing is sent twice.
    static func saveFindings(_ result: AnalysisResult, in store: SellerStore) async throws {
        var write = StoreWrite()
        write.replace(result.recommendations, days: [result.day])
        write.saveAlertsKeepingDeliveryState(result.alerts)
        try await store.apply(write)
    }

    /// The seller's settings, nil when revoked; unknown sellers are a permanent error.
    private func activeSettings(_ seller: SellerID, day: Day) async throws(AnalyzeError) -> SellerSettings? {
        do {
            let registered = try await control.seller(seller)
            return registered.status == .active ? registered.settings : nil
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            throw AnalyzeError(seller: seller, day: day, reason: .unknownSeller)
        } catch {
            throw AnalyzeError(seller: seller, day: day, reason: .store("\(error)"))
        }
    }

    private func withStore<T: Sendable>(_ seller: SellerID, day: Day, _ body: @Sendable (SellerStore) async throws -> T) async throws(AnalyzeError) -> T {
        do {
            return try await stores.withStore(seller, body)
        } catch {
            throw AnalyzeError(seller: seller, day: day, reason: .store("\(error)"))
        }
    }
}
