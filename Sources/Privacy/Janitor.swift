public import Foundation
public import JobQueue
public import SellerStore

/// The janitor's handlers, wired for `optmazon-janitor`.
public enum Janitor {
    /// A router for `wipe`, `export` and `retention` over the given stores.
    /// - Parameter now: the clock, injectable for tests.
    public static func router(storage: SellerStorage, control: ControlStore, retentionDays: Int,
                              now: @escaping @Sendable () -> Date = { Date() }) -> JobRouter {
        JobRouter([
            .wipe: WipeHandler(storage: storage, control: control, now: now),
            .export: ExportHandler(storage: storage, control: control, now: now),
            .retention: RetentionHandler(storage: storage, control: control, retentionDays: retentionDays, now: now),
        ])
    }
}
