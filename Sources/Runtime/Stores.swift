import Foundation
import OptMazonConfig
import SellerStore

/// Opens the encrypted stores from the loaded settings.
///
/// Directories come from `data.dir`/`key.dir` (file or environment); the master key only from
/// `OPTMAZON_MASTER_KEY_FILE` or `OPTMAZON_MASTER_KEY`, never from the config file in the repo.
public enum Stores {
    /// The store locations, or a one-line error naming what is missing.
    public static func locations(_ settings: Settings, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StoreLocations {
        var env = environment
        env["OPTMAZON_DATA_DIR"] = settings.dataDir
        env["OPTMAZON_KEY_DIR"] = settings.keyDir
        return try StoreLocations.fromEnvironment(env)
    }

    /// Seller storage (per-seller files and the control store) from settings.
    public static func storage(_ settings: Settings) throws -> SellerStorage {
        try SellerStorage(locations(settings))
    }
}
