import ArgumentParser
import Domain
import Foundation
import Runtime
import SellerStore

/// A refused operator value, printed by ArgumentParser as one `Error: ...` line (no usage dump).
struct InvalidValue: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// `optmazon sellers add|list|show|set`: the seller registry in the encrypted control store.
struct SellersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sellers",
        abstract: "Manage the seller registry (encrypted control store).",
        discussion: "Store locations come from data.dir and key.dir (OPTMAZON_DATA_DIR, OPTMAZON_KEY_DIR); the master key from OPTMAZON_MASTER_KEY_FILE (or OPTMAZON_MASTER_KEY).",
        subcommands: [Add.self, List.self, Show.self, SetSettings.self, RevokeSellerCommand.self]
    )
}

extension SellersCommand {
    /// Opens the control store, runs `body`, closes the store.
    static func withControlStore<T>(_ body: (ControlStore) async throws -> T) async throws -> T {
        try await withStorage { _, control in try await body(control) }
    }

    /// Like ``withControlStore(_:)``, also handing over the storage to open seller stores.
    static func withStorage<T>(_ body: (SellerStorage, ControlStore) async throws -> T) async throws -> T {
        let storage = try Stores.storage(try await WorkerRuntime.loadSettingsOrExit())
        let control = try await storage.openControlStore()
        do {
            let result = try await body(storage, control)
            await control.close()
            return result
        } catch {
            await control.close()
            throw error
        }
    }

    static func parseSellerID(_ raw: String) throws -> SellerID {
        do { return try SellerID(validating: raw) } catch { throw InvalidValue(error.description) }
    }

    /// Reads a secret from a file, or from standard input when `path` is `-`; trims surrounding whitespace.
    static func readSecret(_ path: String, what: String) throws -> Secret {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw InvalidValue("cannot read \(what) from \(path)")
            }
            data = contents
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw InvalidValue("\(what) in \(path == "-" ? "standard input" : path) is empty") }
        guard !token.contains(where: \.isWhitespace) else {
            throw InvalidValue("\(what) in \(path == "-" ? "standard input" : path) must be a single token")
        }
        return Secret(token)
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a seller by hand.",
            discussion: "Refresh tokens are read from files (or standard input with `-`), never from flags or the environment."
        )

        @Option(name: .customLong("seller-id"), help: "Selling partner id.")
        var sellerID: String

        @Option(help: "Region: na, eu or fe.")
        var region: String

        @Option(name: .customLong("marketplace"), help: "Marketplace id, e.g. ATVPDKIKX0DER (repeatable).")
        var marketplaces: [String] = []

        @Option(name: .customLong("refresh-token-file"), help: "File holding the SP-API LWA refresh token, or - for stdin.")
        var refreshTokenFile: String

        @Option(name: .customLong("ads-refresh-token-file"), help: "File holding the Ads API refresh token, or - for stdin.")
        var adsRefreshTokenFile: String?

        @Option(name: .customLong("ads-profile-id"), help: "Ads API profile id (with --ads-refresh-token-file).")
        var adsProfileID: String?

        func validate() throws {
            guard Region(rawValue: region) != nil else { throw InvalidValue("--region must be na, eu or fe, not '\(region)'") }
            guard !marketplaces.isEmpty else { throw InvalidValue("at least one --marketplace is required") }
            guard (adsRefreshTokenFile == nil) == (adsProfileID == nil) else {
                throw InvalidValue("--ads-refresh-token-file and --ads-profile-id go together")
            }
            if refreshTokenFile == "-" && adsRefreshTokenFile == "-" {
                throw InvalidValue("only one refresh token can come from standard input")
            }
        }

        func run() async throws {
            let id = try SellersCommand.parseSellerID(sellerID)
            let registration = try SellerRegistration(
                sellerID: id, region: Region(rawValue: region)!, marketplaceIDs: marketplaces,
                spRefreshToken: try SellersCommand.readSecret(refreshTokenFile, what: "refresh token"),
                adsRefreshToken: try adsRefreshTokenFile.map { try SellersCommand.readSecret($0, what: "Ads refresh token") },
                adsProfileID: adsProfileID)
            try await SellersCommand.withControlStore { try await $0.register(registration) }
            print("registered seller \(id) (\(region), \(registration.marketplaceIDs.joined(separator: ",")))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered sellers.")

        func run() async throws {
            let sellers = try await SellersCommand.withControlStore { try await $0.sellers() }
            guard !sellers.isEmpty else {
                print("no sellers registered")
                return
            }
            print(["SELLER", "REGION", "STATUS", "ADS", "MARKETPLACES"].joined(separator: "\t"))
            for s in sellers {
                print([s.sellerID.rawValue, s.region.rawValue, s.status.rawValue, s.adsRefreshToken == nil ? "no" : "yes",
                       s.marketplaceIDs.joined(separator: ",")].joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one seller (refresh tokens masked).")

        @Argument(help: "Selling partner id.")
        var sellerID: String

        func run() async throws {
            let id = try SellersCommand.parseSellerID(sellerID)
            let s = try await SellersCommand.withControlStore { try await $0.seller(id) }
            var lines = [
                "seller:            \(s.sellerID)",
                "region:            \(s.region.rawValue)",
                "marketplaces:      \(s.marketplaceIDs.joined(separator: ","))",
                "status:            \(s.status.rawValue)" + (s.revokedAt.map { " since \($0.formatted(.iso8601))" } ?? ""),
                "registered:        \(s.createdAt.formatted(.iso8601))",
                "sp refresh token:  \(s.spRefreshToken)",
                "ads refresh token: \(s.adsRefreshToken.map { "\($0)" } ?? "-")",
                "ads profile id:    \(s.adsProfileID ?? "-")",
                "target ACoS:       \(s.settings.targetACoS)%",
                "bids:              \(s.settings.minBid) to \(s.settings.maxBid)",
                "webhook url:       \(s.settings.webhookURL ?? "-")",
                "slack webhook url: \(s.settings.slackWebhookURL.map { _ in "(set)" } ?? "-")",
                "price guardrails:  \(s.settings.guardrails.isEmpty ? "-" : "")",
            ]
            for g in s.settings.guardrails.values.sorted(by: { $0.sku < $1.sku }) {
                lines.append("  \(g.sku): \(g.floor) to \(g.ceiling)")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct SetSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a seller's settings.")

        @Argument(help: "Selling partner id.")
        var sellerID: String

        @Option(name: .customLong("target-acos"), help: "Target advertising cost of sales, percent.")
        var targetACoS: Double?

        @Option(help: "SKU whose price guardrail to set (with --price-floor and --price-ceiling).")
        var sku: String?

        @Option(name: .customLong("price-floor"), help: "Lowest price the analyzer may recommend for --sku.")
        var priceFloor: Double?

        @Option(name: .customLong("price-ceiling"), help: "Highest price the analyzer may recommend for --sku.")
        var priceCeiling: Double?

        @Option(name: .customLong("webhook-url"), help: "HTTPS URL receiving alert webhooks.")
        var webhookURL: String?

        @Option(name: .customLong("slack-webhook-url"), help: "Slack incoming-webhook URL for alerts.")
        var slackWebhookURL: String?

        @Option(name: .customLong("price-guardrails-csv"), help: "CSV file of sku,floor,ceiling lines.")
        var priceGuardrailsCSV: String?

        @Option(name: .customLong("remove-guardrail"), help: "SKU whose price guardrail to delete (repeatable).")
        var removeGuardrails: [String] = []

        @Option(name: .customLong("min-bid"), help: "Lowest keyword/target bid the analyzer may recommend.")
        var minBid: Double?

        @Option(name: .customLong("max-bid"), help: "Highest keyword/target bid the analyzer may recommend.")
        var maxBid: Double?

        @Flag(name: .customLong("clear-webhook-url"), help: "Stop sending alert webhooks to this seller's URL.")
        var clearWebhookURL = false

        @Flag(name: .customLong("clear-slack-webhook-url"), help: "Stop sending alerts to this seller's Slack webhook.")
        var clearSlackWebhookURL = false

        func validate() throws {
            let guardrailFlags = [sku == nil, priceFloor == nil, priceCeiling == nil]
            guard guardrailFlags.allSatisfy({ $0 }) || guardrailFlags.allSatisfy({ !$0 }) else {
                throw InvalidValue("--sku, --price-floor and --price-ceiling go together")
            }
            let anything: [Bool] = [targetACoS != nil, sku != nil, webhookURL != nil, slackWebhookURL != nil, priceGuardrailsCSV != nil,
                                    !removeGuardrails.isEmpty, minBid != nil, maxBid != nil, clearWebhookURL, clearSlackWebhookURL]
            guard anything.contains(true) else {
                throw InvalidValue("nothing to set: give at least one option")
            }
            if let targetACoS, !(targetACoS > 0 && targetACoS <= 100) {
                throw InvalidValue("invalid target ACoS: \(targetACoS) must be a percentage above 0 and at most 100")
            }
            for (flag, bid) in [("--min-bid", minBid), ("--max-bid", maxBid)] {
                if let bid, !(bid > 0 && bid.isFinite) { throw InvalidValue("invalid \(flag): \(bid) must be a positive amount") }
            }
            if let minBid, let maxBid, minBid > maxBid {
                throw InvalidValue("invalid bids: --min-bid \(minBid) is above --max-bid \(maxBid)")
            }
            if webhookURL != nil && clearWebhookURL { throw InvalidValue("--webhook-url and --clear-webhook-url contradict each other") }
            if slackWebhookURL != nil && clearSlackWebhookURL {
                throw InvalidValue("--slack-webhook-url and --clear-slack-webhook-url contradict each other")
            }
            if let webhookURL { try Self.checkURL(webhookURL, flag: "--webhook-url") }
            if let slackWebhookURL { try Self.checkURL(slackWebhookURL, flag: "--slack-webhook-url") }
        }

        static func checkURL(_ raw: String, flag: String) throws {
            guard let url = URL(string: raw), let host = url.host, !host.isEmpty,
                  url.scheme == "https" || (url.scheme == "http" && LoopbackHost.contains(host)) else {
                throw InvalidValue("invalid \(flag): '\(raw.prefix(200))' must be an https URL")
            }
        }

        /// Parses `sku,floor,ceiling` lines (a header line starting with `sku` is skipped).
        static func parseGuardrails(_ path: String) throws -> [PriceGuardrail] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InvalidValue("cannot read --price-guardrails-csv \(path)")
            }
            var result: [PriceGuardrail] = []
            for (index, rawLine) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || (index == 0 && line.lowercased().hasPrefix("sku")) { continue }
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == 3, !fields[0].isEmpty, let floor = Double(fields[1]), let ceiling = Double(fields[2]) else {
                    throw InvalidValue("\(path) line \(index + 1): expected sku,floor,ceiling")
                }
                do {
                    result.append(try PriceGuardrail(sku: fields[0], floor: floor, ceiling: ceiling))
                } catch {
                    throw InvalidValue("\(path) line \(index + 1): \(error.description)")
                }
            }
            return result
        }

        func run() async throws {
            let id = try SellersCommand.parseSellerID(sellerID)
            var guardrails: [PriceGuardrail] = []
            if let priceGuardrailsCSV { guardrails += try Self.parseGuardrails(priceGuardrailsCSV) }
            if let sku, let priceFloor, let priceCeiling {
                do { guardrails.append(try PriceGuardrail(sku: sku, floor: priceFloor, ceiling: priceCeiling)) } catch {
                    throw InvalidValue(error.description)
                }
            }
            let (targetACoS, webhookURL, slackWebhookURL) = (self.targetACoS, self.webhookURL, self.slackWebhookURL)
            let (minBid, maxBid, clearWebhook, clearSlack) = (self.minBid, self.maxBid, clearWebhookURL, clearSlackWebhookURL)
            let newGuardrails = guardrails
            let removed = removeGuardrails
            try await SellersCommand.withStorage { storage, control in
                _ = try await control.seller(id)
                if !newGuardrails.isEmpty { try await Self.checkSKUs(newGuardrails.map(\.sku), of: id, in: storage) }
                let updated = try await control.updateSettings(of: id) { settings in
                    if let targetACoS { settings.targetACoS = targetACoS }
                    if let minBid { settings.minBid = minBid }
                    if let maxBid { settings.maxBid = maxBid }
                    guard settings.minBid <= settings.maxBid else {
                        throw InvalidValue("invalid bids: minimum \(settings.minBid) would be above maximum \(settings.maxBid)")
                    }
                    if let webhookURL { settings.webhookURL = webhookURL }
                    if let slackWebhookURL { settings.slackWebhookURL = slackWebhookURL }
                    if clearWebhook { settings.webhookURL = nil }
                    if clearSlack { settings.slackWebhookURL = nil }
                    for sku in removed {
                        guard settings.guardrails.removeValue(forKey: sku) != nil else {
                            throw InvalidValue("seller \(id) has no price guardrail for SKU '\(sku.prefix(80))'")
                        }
                    }
                    for g in newGuardrails { settings.guardrails[g.sku] = g }
                }
                printLine("updated seller \(id): target ACoS \(updated.targetACoS)%, bids \(updated.minBid)–\(updated.maxBid), "
                          + "\(updated.guardrails.count) price guardrail(s), webhook \(updated.webhookURL == nil ? "off" : "on"), "
                          + "Slack \(updated.slackWebhookURL == nil ? "off" : "on")")
            }
        }

        /// Refuses guardrails for SKUs the seller's catalog does not have (a typo would silently guard nothing).
        static func checkSKUs(_ skus: [String], of id: SellerID, in storage: SellerStorage) async throws {
            guard FileManager.default.fileExists(atPath: storage.databasePath(for: id)) else {
                throw InvalidValue("seller \(id) has no catalog yet: set price guardrails after its first fetch")
            }
            let store = try await storage.openSeller(id, create: false)
            let known: Set<String>
            do {
                known = try await store.listedSKUs()
                await store.close()
            } catch {
                await store.close()
                throw error
            }
            let unknown = skus.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                let shown = unknown.prefix(5).map { "'\($0.prefix(80))'" }.joined(separator: ", ")
                throw InvalidValue("unknown SKU for seller \(id): \(shown)\(unknown.count > 5 ? " and \(unknown.count - 5) more" : "") "
                                   + "(not in its \(known.count) listed SKUs)")
            }
        }
    }
}
