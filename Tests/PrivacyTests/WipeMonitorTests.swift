import Domain
import Foundation
import Privacy
import SellerStore
import Testing

@Suite("Overdue wipes")
struct WipeMonitorTests {
    @Test("a revoked seller still holding data past the target is overdue and shows in the status lines; a fresh revocation is not")
    func overdue() async throws {
        let f = try await PrivacyFixture()
        let late = try await f.register("LATE1")
        let fresh = try await f.register("FRESH1")
        _ = try await f.register("ACTIVE1")
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))  // whole seconds, as the registry stores them
        try await f.control.setStatus(of: late, to: .revoked, at: now.addingTimeInterval(-3 * 86_400))
        try await f.control.setStatus(of: fresh, to: .revoked, at: now.addingTimeInterval(-3600))

        let overdue = try await WipeMonitor.overdue(in: f.control, now: now)
        #expect(overdue.map(\.sellerID) == [late])
        let lines = WipeMonitor.statusLines(overdue, now: now)
        #expect(lines.first?.hasPrefix("WIPES OVERDUE: 1") == true)
        #expect(lines.contains { $0.contains("seller=LATE1") && $0.contains("policy deadline in 27d") })
        #expect(WipeMonitor.statusLines([], now: now) == ["wipes: none overdue"])
        try await f.cleanup()
    }
}
