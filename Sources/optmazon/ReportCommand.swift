import Analysis
import ArgumentParser
import Domain
import Foundation
import Runtime
import SellerStore

/// `optmazon report --seller ID [--json] [--day YYYY-MM-DD]`: the latest recommendations and alerts of one seller.
///
/// Reads the seller's encrypted store (never creates one): the recommendations and alerts of the newest analysed
/// day (or `--day`), plus alerts of earlier days still waiting for delivery. The terminal form is grouped, worst
/// first, with the evidence; `--json` prints every field.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a seller's latest recommendations and alerts.",
        discussion: "Store locations come from data.dir and key.dir (OPTMAZON_DATA_DIR, OPTMAZON_KEY_DIR); the master key from OPTMAZON_MASTER_KEY_FILE (or OPTMAZON_MASTER_KEY).")

    @Option(name: .customLong("seller"), help: "Selling partner id.")
    var seller: String

    @Flag(help: "Print the complete report as JSON.")
    var json = false

    @Option(help: "Analysis day (YYYY-MM-DD); default the newest analysed day within the last 90 days.")
    var day: String?

    /// How far back the newest analysed day is searched for.
    static let lookbackDays = 90

    func validate() throws {
        guard SellerID(rawValue: seller) != nil else {
            throw ValidationError("invalid --seller '\(seller.prefix(80))': must be 1-64 letters, digits, '-' or '_'")
        }
        if let day, Day(rawValue: day) == nil { throw ValidationError("invalid --day '\(day.prefix(40))': expected YYYY-MM-DD") }
    }

    func run() async throws {
        let id = SellerID(rawValue: seller)!
        let storage = try Stores.storage(try await WorkerRuntime.loadSettingsOrExit())
        let store: SellerStore
        do {
            store = try await storage.openSeller(id, create: false)
        } catch let error as SellerStoreError where error.code == .keyNotFound {
            throw CommandFailure("seller \(id) has no store (never fetched, or wiped)")
        }
        let report: Report
        do {
            report = try await Self.latestReport(of: store, day: day.flatMap(Day.init(rawValue:)), today: Day(Date()))
            await store.close()
        } catch {
            await store.close()
            throw error
        }
        if json {
            var data = try ReportRenderer().json(report)
            data.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(data)
        } else {
            let width = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 100
            FileHandle.standardOutput.write(Data(ReportRenderer(width: width).text(report).utf8))
        }
    }

    /// The report of `day`, or of the newest day with stored findings in the 90 days up to `today` (else the day of the
    /// newest undelivered alert), with older undelivered alerts added.
    static func latestReport(of store: SellerStore, day: Day?, today: Day) async throws -> Report {
        var chosen = day
        if chosen == nil {
            var current = today
            while current > today.adding(days: -lookbackDays) {
                let recommendations = try await store.rows(Recommendation.self, from: current, through: current)
                let alerts = recommendations.isEmpty ? try await store.rows(Alert.self, from: current, through: current) : []
                if !recommendations.isEmpty || !alerts.isEmpty {
                    chosen = current
                    break
                }
                current = current.adding(days: -1)
            }
        }
        let undelivered = try await store.undeliveredAlerts(limit: 1_000)
        // Nothing analysed recently: fall back to the day of the newest alert still waiting in the outbox.
        guard let chosen = chosen ?? undelivered.map(\.day).max() else {
            return Report(sellerID: store.sellerID, day: nil, recommendations: [], alerts: [])
        }
        let recommendations = try await store.rows(Recommendation.self, from: chosen, through: chosen)
        var alerts = try await store.rows(Alert.self, from: chosen, through: chosen)
        let shown = Set(alerts.map(\.id))
        alerts += undelivered.filter { !shown.contains($0.id) && $0.day <= chosen }
        return Report(sellerID: store.sellerID, day: chosen, recommendations: recommendations, alerts: alerts)
    }
}
