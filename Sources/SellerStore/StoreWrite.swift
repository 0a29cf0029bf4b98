public import Domain
import Foundation
import GRDB

/// Changes to several of one seller's tables, applied together in one transaction by ``SellerStore/apply(_:)``.
///
/// A data set that spans tables (Sponsored Products: campaigns, ad groups, targets, metrics, search terms) or
/// a run's findings (recommendations and their alerts) is either stored whole or not at all, so a crash or a
/// revocation mid-write never leaves a half-updated day behind.
public struct StoreWrite: Sendable {
    fileprivate var steps: [@Sendable (Database) throws -> Void] = []

    public init() {}

    /// Whether nothing was added.
    public var isEmpty: Bool { steps.isEmpty }

    /// Inserts rows, replacing rows with the same primary key.
    public mutating func save<Row: SellerTableRow>(_ rows: [Row]) {
        steps.append { db in
            for row in rows { try StoredRow(row).insert(db) }
        }
    }

    /// Makes `rows` the whole content of `Row`'s table for the capture `days`: rows of those days that are not
    /// in `rows` (a listing deleted since the day's first run, a paused keyword) are deleted.
    ///
    /// Re-fetching a day therefore replaces it exactly, never leaving yesterday's leftovers beside today's rows.
    public mutating func replace<Row: SellerTableRow>(_ rows: [Row], days: Set<Day>) {
        let table = Row.sellerTable
        let dayValues = days.map(\.rawValue).sorted()
        steps.append { db in
            for chunk in stride(from: 0, to: dayValues.count, by: 500) {
                let slice = Array(dayValues[chunk..<min(chunk + 500, dayValues.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                try db.execute(sql: "DELETE FROM \(table.name) WHERE \(table.captureColumn) IN (\(marks))",
                               arguments: StatementArguments(slice))
            }
            for row in rows { try StoredRow(row).insert(db) }
        }
    }

    /// Saves alerts into the outbox, keeping the delivery state (state, attempts, last error) of alerts with the
    /// same id that an earlier run already stored, so a re-run never re-sends what was delivered.
    ///
    /// The stored state is read inside the transaction, so an alerter marking an alert delivered at the same
    /// moment cannot be overwritten.
    public mutating func saveAlertsKeepingDeliveryState(_ alerts: [Alert]) {
        steps.append { db in
            for chunk in stride(from: 0, to: alerts.count, by: 500) {
                let slice = Array(alerts[chunk..<min(chunk + 500, alerts.count)])
                let stored = try StoredRow<Alert>.filter(slice.map(\.id).contains(Column("id"))).fetchAll(db).map(\.value)
                let byID = Dictionary(stored.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for alert in slice {
                    var kept = alert
                    if let earlier = byID[alert.id] {
                        kept.state = earlier.state
                        kept.attempts = earlier.attempts
                        kept.lastError = earlier.lastError
                    }
                    try StoredRow(kept).insert(db)
                }
            }
        }
    }
}

extension SellerStore {
    /// Applies every change of `write` in one transaction: all of them, or none if any fails.
    public func apply(_ write: StoreWrite) async throws {
        guard !write.isEmpty else { return }
        let steps = write.steps
        try await self.write("cannot write") { db in
            for step in steps { try step(db) }
        }
    }
}
