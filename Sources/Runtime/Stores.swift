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

    /// The `OPTMAZON_*` view of Amazon endpoints the client reads: file values overridden by the
    /// environment (settings already merged them), plus the LWA secret from the environment only.
    public static func amazonEnvironment(_ settings: Settings,
                                         environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env = environment
        env["OPTMAZON_SPAPI_URL"] = settings.amazon.spapiURL
        env["OPTMAZON_LWA_URL"] = settings.amazon.lwaURL
        env["OPTMAZON_ADS_URL"] = settings.amazon.adsURL
        env["OPTMAZON_LWA_CLIENT_ID"] = settings.amazon.lwaClientID
        env["OPTMAZON_TLS_MINIMUM"] = settings.amazon.minimumTLS
        return env
    }
}
