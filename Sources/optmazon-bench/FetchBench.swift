import AmazonClient
import Domain
import Foundation
import Logging
import Sandbox

/// `scripts/bench fetch`: how close a full SP-API fetch of one large seller gets to Amazon's rate limits.
///
/// Runs the sandbox in-process with Amazon's real usage plans on a compressed clock (`timeScale`) and fetches,
/// through the client's own data-set functions, the All Listings report (once), listings (`fetchListings`:
/// Listings Items + Catalog fallback), pricing (`fetchOffers`: offers batch, competitive pricing, FOEP batch)
/// and the Sales and Traffic report for a `skus`-SKU seller.
///
/// The theoretical minimum comes from Amazon's published usage plans alone: per operation,
/// `max(0, calls − burst) / rate` for the calls the data needs (one getListingsItem per SKU, 20 ASINs per
/// offers/competitive call, 40 SKUs per FOEP call, getCatalogItem for the SKUs whose listing lacks a brand or
/// title). Operations have separate buckets and the client runs them concurrently, so the per-SKU phase takes
/// at least the slowest operation's time; it cannot start before the inventory report is processed, so the
/// report's processing time is added.
///
/// The client paces burst-1 operations (all pricing batches) one interval after the previous answer, so each
/// such call costs one round trip on top of Amazon's interval. Time compression shrinks the intervals but not
/// the round trips, so the default time scale of 20 is chosen to keep a loopback round trip of a debug build
/// on this machine (10–30 ms under load) near a real SP-API round trip (0.2–0.6 s of Amazon time); at 200× the
/// same round trip would stand for several seconds per call.
enum FetchBench {
    static func run(skus: Int = 1000, timeScale: Double = 20) async throws -> [String] {
        let reportSeconds = 20.0
        let sandboxConfig = SandboxConfig(sellers: 1, skus: skus, seed: 42, timeScale: timeScale, reportSeconds: reportSeconds)
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let sandbox = try await RunningSandbox.start(sandboxConfig, logger: quiet)
        let base = URL(string: sandbox.url)!
        let config = AmazonClientConfig(endpoints: AmazonEndpoints(spapi: base, lwaToken: base.appendingPathComponent("auth/o2/token"), ads: base),
                                        lwaClientID: "bench", lwaClientSecret: "bench", readTimeout: .seconds(60),
                                        retry: RetryPolicy(baseDelay: 0.5 / timeScale, maxDelay: 30 / timeScale),
                                        reportPollInitialDelay: 1 / timeScale, reportPollMaxDelay: 2 / timeScale)
        let limiter = TokenBucketRateLimiter(timeScale: timeScale)
        let client = AmazonClient(config: config, rateLimiter: limiter, logger: quiet)
        let s = sandbox.server.world.sellers[0]
        let seller = SellerAuthorization(sellerID: SellerID(rawValue: s.sellerID)!, spapiRefreshToken: s.spapiRefreshToken)
        let day = sandboxConfig.today.adding(days: -1)

        let started = ContinuousClock.now
        let result: (listings: Int, offers: Int, traffic: Int, inventory: [InventoryRow], inventorySeconds: Double)
        do {
            async let traffic = client.fetchSalesTraffic(seller: seller, marketplace: s.marketplaceID, day: day.adding(days: -1))
            let inventory = try await client.fetchInventory(seller: seller, marketplace: s.marketplaceID)
            let inventoryTime = ContinuousClock.now - started
            async let offers = client.fetchOffers(seller: seller, marketplace: s.marketplaceID, day: day, items: inventory.map { ($0.sku, $0.asin) })
            let listings = try await client.fetchListings(seller: seller, marketplace: s.marketplaceID, day: day, inventory: inventory)
            result = (listings.count, try await offers.count, try await traffic.count, inventory, seconds(inventoryTime))
        } catch {
            try? await client.shutdown()
            await sandbox.stop()
            throw error
        }
        let wall = seconds(ContinuousClock.now - started)
        let counts = await client.callCounts()
        let served = await sandbox.server.counts()
        try await client.shutdown()
        await sandbox.stop()

        let asins = Set(result.inventory.map(\.asin).filter { !$0.isEmpty }).count
        let catalogNeeded = (served.requests["getCatalogItem"] ?? 0) - (served.throttled["getCatalogItem"] ?? 0)
        let needed: [(AmazonOperation, Int)] = [
            (.getListingsItem, result.inventory.count), (.getCatalogItem, catalogNeeded),
            (.getItemOffersBatch, (asins + 19) / 20), (.getCompetitivePricing, (asins + 19) / 20),
            (.getFeaturedOfferExpectedPriceBatch, (result.inventory.count + 39) / 40),
        ]
        let floors = needed.map { op, calls in (op, calls, Double(max(0, calls - op.burst)) / op.rate) }
        let slowest = floors.max { $0.2 < $1.2 } ?? (.getListingsItem, 0, 0)
        let theoreticalAmazon = reportSeconds + slowest.2
        let theoretical = theoreticalAmazon / timeScale
        let totalCalls = counts.values.reduce(0) { $0 + $1.calls }
        let throttled = counts.values.reduce(0) { $0 + $1.throttled }
        var lines = [
            "fetch: \(skus) SKUs, time scale \(timeScale)x (Amazon's default usage plans)",
            "  data: \(result.listings) listings, \(result.offers) offer snapshots, \(result.traffic) sales/traffic rows",
            String(format: "  SP-API calls: %d (%.3f per ASIN), 429s received: %d (sandbox sent %d)", totalCalls,
                   Double(totalCalls) / Double(max(1, asins)), throttled, served.throttled.values.reduce(0, +)),
        ]
        for (name, c) in counts.sorted(by: { $0.key < $1.key }) { lines.append("    \(name): \(c.calls) calls, \(c.throttled) throttled") }
        lines.append("  floors from published limits (Amazon seconds, max(0, calls - burst) / rate):")
        for (op, calls, floor) in floors {
            lines.append(String(format: "    %@: %d calls, rate %g, burst %d -> %.1f s", op.name, calls, op.rate, op.burst, floor))
        }
        lines += [
            String(format: "  wall time: %.2f s (= %.0f s at Amazon's clock); inventory report ready after %.2f s (= %.0f s)",
                   wall, wall * timeScale, result.inventorySeconds, result.inventorySeconds * timeScale),
            String(format: "  theoretical minimum: %.2f s (= %.0f s at Amazon's clock: report processing %.0f s + %@ %.1f s)",
                   theoretical, theoreticalAmazon, reportSeconds, slowest.0.name, slowest.2),
            String(format: "  ratio theoretical/actual: %.1f%% of the ceiling", theoretical / wall * 100),
        ]
        return lines
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
