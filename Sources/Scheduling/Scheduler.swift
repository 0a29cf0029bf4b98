public import Domain
public import Foundation
public import JobQueue
public import Logging
import Privacy

/// What one scheduler tick enqueued.
public struct TickReport: Sendable, Equatable {
    /// Nightly runs enqueued on time (seller → local day).
    public var fetches: [SellerID: Day] = [:]
    /// Nightly runs enqueued late, because the scheduler was down over their slot.
    public var catchUps: [SellerID: Day] = [:]
    /// Runs another scheduler (or an earlier life of this one) had already enqueued.
    public var duplicates = 0
    public var retentions: [SellerID: Day] = [:]
    /// Sellers whose wipe was (re-)enqueued.
    public var wipes: [SellerID] = []
    /// Revoked sellers still holding data past the target (an alert was logged when not already recent).
    public var overdueWipes: [OverdueWipe] = []
}

/// Decides what is due and enqueues it: nightly fetches per seller and local day, daily
/// retention sweeps, wipes of revoked sellers, with overdue-wipe alerts.
///
/// Every job carries a unique key per seller and day, so any number of ticks, restarts or
/// schedulers enqueue each run once. On its first tick it enqueues runs whose slot passed while
/// no scheduler ran (catch-up), spread over `catchUpSpreadSeconds` from now.
public actor Scheduler {
    private let queue: any JobQueue
    private let directory: any SellerDirectory
    public let plan: NightlyPlan
    private var configuration: SchedulerConfiguration { plan.configuration }
    private let logger: Logger
    private let now: @Sendable () -> Date

    private var sellers: [ScheduledSeller] = []
    private var lastRefresh: Date?
    private var lastWipeCheck: Date?
    private var fetchedDay: [SellerID: Day] = [:]
    private var retainedDay: [SellerID: Day] = [:]
    private var lastAlert: [SellerID: Date] = [:]

    /// - Parameter now: the clock, injectable so tests can move through days and time zones.
    public init(queue: any JobQueue, directory: any SellerDirectory, configuration: SchedulerConfiguration, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.queue = queue
        self.directory = directory
        self.plan = NightlyPlan(configuration: configuration)
        self.logger = logger
        self.now = now
    }

    /// Enqueues everything due at the clock's current time.
    @discardableResult
    public func tick() async throws -> TickReport {
        let now = self.now()
        if lastRefresh.map({ now.timeIntervalSince($0) >= configuration.sellerRefreshSeconds || now < $0 }) ?? true {
            sellers = try await directory.schedulableSellers()
            lastRefresh = now
        }
        var report = TickReport()
        var requests: [EnqueueRequest] = []
        var pending: [(seller: SellerID, day: Day, kind: JobKind, late: Bool)] = []

        for seller in sellers where seller.status == .active {
            let (day, slot) = plan.latestFetchSlot(for: seller, at: now)
            guard fetchedDay[seller.id] != day else { continue }
            if seller.createdAt > slot {
                // Registered after tonight's slot: onboarding enqueued its first run.
                fetchedDay[seller.id] = day
                continue
            }
            let late = now.timeIntervalSince(slot) > configuration.catchUpGraceSeconds
            let runAt = late ? now.addingTimeInterval(NightlyPlan.offset(of: seller.id, within: configuration.catchUpSpreadSeconds)) : nil
            let job = JobEnvelope(kind: .fetch, seller: seller.id, arguments: ["day": day.rawValue, "trigger": late ? "catch-up" : "schedule"],
                                  enqueuedAt: now)
            requests.append(EnqueueRequest(job, at: runAt, uniqueKey: Self.fetchKey(seller.id, day: day), uniqueFor: configuration.uniqueSeconds))
            pending.append((seller.id, day, .fetch, late))
        }
        for seller in sellers {
            let (day, slot) = plan.latestRetentionSlot(for: seller.id, at: now)
            guard retainedDay[seller.id] != day else { continue }
            if seller.createdAt > slot {
                retainedDay[seller.id] = day
                continue
            }
            requests.append(EnqueueRequest(PrivacyJobs.retention(seller.id, day: day), uniqueKey: PrivacyJobs.retentionKey(seller.id, day: day),
                                           uniqueFor: configuration.uniqueSeconds))
            pending.append((seller.id, day, .retention, false))
        }
        if !requests.isEmpty {
            let results = try await queue.enqueue(batch: requests)
            for (item, result) in zip(pending, results) {
                if item.kind == .fetch { fetchedDay[item.seller] = item.day } else { retainedDay[item.seller] = item.day }
                guard case .enqueued = result else {
                    report.duplicates += 1
                    continue
                }
                switch (item.kind, item.late) {
                case (.fetch, false): report.fetches[item.seller] = item.day
                case (.fetch, true): report.catchUps[item.seller] = item.day
                default: report.retentions[item.seller] = item.day
                }
            }
            if !report.fetches.isEmpty || !report.catchUps.isEmpty || !report.retentions.isEmpty {
                logger.info("scheduled runs", metadata: [
                    "fetch": "\(report.fetches.count)", "catch_up": "\(report.catchUps.count)", "retention": "\(report.retentions.count)",
                    "duplicates": "\(report.duplicates)",
                ])
            }
        }
        if lastWipeCheck.map({ now.timeIntervalSince($0) >= configuration.wipeCheckSeconds || now < $0 }) ?? true {
            lastWipeCheck = now
            try await checkWipes(now: now, report: &report)
        }
        return report
    }

    /// Unique key of a seller's nightly run on its local `day`.
    public static func fetchKey(_ seller: SellerID, day: Day) -> String { "fetch:\(seller.rawValue):\(day.rawValue)" }

    /// Enqueues a wipe for each revoked seller (at most once per `wipeRetrySeconds`) and alerts on overdue ones.
    private func checkWipes(now: Date, report: inout TickReport) async throws {
        // Revocations happen between registry refreshes; read the registry afresh for this check.
        sellers = try await directory.schedulableSellers()
        lastRefresh = now
        let revoked = sellers.filter { $0.status == .revoked }
        guard !revoked.isEmpty else { return }
        let requests = revoked.map { seller in
            EnqueueRequest(PrivacyJobs.wipe(seller.id, trigger: .revocation, reason: "revoked; scheduled wipe", requestedAt: now),
                           uniqueKey: PrivacyJobs.wipeKey(seller.id), uniqueFor: configuration.wipeRetrySeconds)
        }
        for (seller, result) in zip(revoked, try await queue.enqueue(batch: requests)) {
            if case .enqueued = result { report.wipes.append(seller.id) }
        }
        for seller in revoked {
            let revokedAt = seller.revokedAt ?? seller.createdAt
            let due = revokedAt.addingTimeInterval(configuration.wipeTargetSeconds)
            guard due <= now else { continue }
            let overdue = OverdueWipe(sellerID: seller.id, revokedAt: revokedAt, dueAt: due,
                                      policyDeadline: revokedAt.addingTimeInterval(WipeMonitor.policyDeadline), started: false)
            report.overdueWipes.append(overdue)
            if let last = lastAlert[seller.id], now.timeIntervalSince(last) < configuration.wipeRetrySeconds, now >= last { continue }
            lastAlert[seller.id] = now
            logger.error("operator alert: revoked seller's data not wiped within target", metadata: [
                "alert": "wipe_overdue", "seller": "\(seller.id)", "revoked_at": "\(revokedAt.formatted(.iso8601))",
                "overdue_hours": "\(Int(now.timeIntervalSince(due) / 3600))",
                "policy_deadline": "\(overdue.policyDeadline.formatted(.iso8601))",
            ])
        }
    }
}
