public import Foundation
public import JobQueue
public import JobQueueRedis
import Privacy
public import Logging
import Prometheus
public import Redis
public import SellerStore

/// Renders `/metrics` in the Prometheus text format from what Redis and the registry hold right now.
///
/// Nothing is kept between scrapes: every scrape builds a fresh `PrometheusCollectorRegistry`
/// (swift-prometheus) from absolute values, so any number of web processes report the same
/// numbers. Job latency histograms are rendered by hand after the registry's output because
/// swift-prometheus' `Histogram` can only `record` single observations, while Redis already
/// holds aggregated bucket counts.
public struct MetricsExporter: Sendable {
    /// One queue per shard (`shard.count` of them), each reading its shard's keys.
    private let queues: [RedisJobQueue]
    private let kinds: [JobKind]
    private let control: ControlStore
    private let wipeTarget: TimeInterval
    private let now: @Sendable () -> Date

    /// The media type Prometheus expects for the text format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// - Parameters:
    ///   - shardQueues: a ``RedisJobQueue`` per shard; their `client` is used for the histogram and API hashes.
    ///   - wipeTarget: how long after revocation a pending wipe counts as overdue (``WipeMonitor/defaultTarget``).
    public init(shardQueues: [RedisJobQueue], control: ControlStore, kinds: [JobKind] = JobKind.all,
                wipeTarget: TimeInterval = WipeMonitor.defaultTarget, now: @escaping @Sendable () -> Date = { Date() }) {
        self.queues = shardQueues
        self.kinds = kinds
        self.control = control
        self.wipeTarget = wipeTarget
        self.now = now
    }

    /// The queues of every shard of `keys`' key space, sharing nothing with the worker processes.
    public static func shardQueues(endpoint: RedisEndpoint, keys: RedisKeys, deadLetterCap: Int, logger: Logger) -> [RedisJobQueue] {
        (0..<keys.shardCount).map { shard in
            RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: keys.prefix, shard: shard, shardCount: keys.shardCount),
                          deadLetterCap: deadLetterCap, logger: logger)
        }
    }

    /// The whole exposition; throws (one line) when Redis or the registry cannot be read, so the scrape fails visibly.
    public func render() async throws -> String {
        let registry = PrometheusCollectorRegistry()
        var histograms: [LatencyHistogram] = []
        for queue in queues {
            let shard = String(queue.keys.shard)
            for status in try await queue.status(kinds: kinds) {
                let labels = [("kind", status.kind), ("shard", shard)]
                registry.makeGauge(descriptor: Self.descriptor("optmazon_queue_depth", "Jobs in the kind's stream: waiting plus delivered and not yet settled"), labels: labels)
                    .set(Double(status.streamLength))
                registry.makeGauge(descriptor: Self.descriptor("optmazon_queue_pending", "Jobs delivered to a worker and not yet settled"), labels: labels)
                    .set(Double(status.pending))
                registry.makeGauge(descriptor: Self.descriptor("optmazon_queue_delayed", "Jobs waiting for a later time (retries, lock deferrals, scheduled runs)"), labels: labels)
                    .set(Double(status.delayed))
                registry.makeGauge(descriptor: Self.descriptor("optmazon_queue_dead", "Jobs in the dead-letter stream"), labels: labels)
                    .set(Double(status.deadLettered))
                registry.makeCounter(descriptor: Self.descriptor("optmazon_jobs_processed_total", "Jobs completed"), labels: labels)
                    .increment(by: Int64(max(0, status.processed)))
                registry.makeCounter(descriptor: Self.descriptor("optmazon_jobs_failed_total", "Jobs dead-lettered after failing for good"), labels: labels)
                    .increment(by: Int64(max(0, status.failed)))
                registry.makeCounter(descriptor: Self.descriptor("optmazon_jobs_retried_total", "Job attempts that failed and were rescheduled"), labels: labels)
                    .increment(by: Int64(max(0, status.retried)))
            }
            let replies = try await queue.client.pipeline(kinds.map { ["HGETALL", queue.keys.latency($0)] }
                + [["HGETALL", queue.keys.apiStats], ["HLEN", queue.keys.consumers]])
            if let error = replies.compactMap(\.errorMessage).first {
                throw RedisError(.reply, "reading metrics of shard \(shard) failed: \(error)")
            }
            for (kind, reply) in zip(kinds, replies) {
                histograms.append(LatencyHistogram(kind: kind.rawValue, shard: shard, fields: Self.pairs(reply)))
            }
            for (operation, counts) in Self.apiCounts(Self.pairs(replies[kinds.count])) {
                let labels = [("operation", operation), ("shard", shard)]
                registry.makeCounter(descriptor: Self.descriptor("optmazon_amazon_api_calls_total", "Amazon API calls made, per operation"), labels: labels)
                    .increment(by: Int64(max(0, counts.calls)))
                registry.makeCounter(descriptor: Self.descriptor("optmazon_amazon_api_throttled_total", "Amazon API calls answered 429 (throttled), per operation"), labels: labels)
                    .increment(by: Int64(max(0, counts.throttled)))
            }
            registry.makeGauge(descriptor: Self.descriptor("optmazon_workers", "Worker processes registered (heartbeat hash entries)"), labels: [("shard", shard)])
                .set(Double(replies[kinds.count + 1].int ?? 0))
        }

        let now = self.now()
        let sellers = try await control.sellers()
        let overdue = try await WipeMonitor.overdue(in: control, now: now, target: wipeTarget)
        let wiped = try await control.wipedSellers()
        for status in SellerStatus.allCases {
            registry.makeGauge(descriptor: Self.descriptor("optmazon_sellers", "Sellers in the registry by status"), labels: [("status", status.rawValue)])
                .set(Double(sellers.filter { $0.status == status }.count))
        }
        registry.makeGauge(descriptor: Self.descriptor("optmazon_wipes_pending", "Revoked sellers whose data is not wiped yet"))
            .set(Double(sellers.filter { $0.status == .revoked }.count))
        registry.makeGauge(descriptor: Self.descriptor("optmazon_wipes_overdue", "Revoked sellers still holding data past the wipe target"))
            .set(Double(overdue.count))
        registry.makeCounter(descriptor: Self.descriptor("optmazon_wipes_completed_total", "Sellers crypto-shredded (wipe complete, receipt written)"))
            .increment(by: Int64(wiped.count))

        var text = registry.emitToString()
        text += LatencyHistogram.render(histograms)
        return text
    }

    /// A swift-prometheus descriptor for a full metric name (`optmazon_…`, unit suffix included in `name`).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// `<operation>:calls` and `<operation>:429` fields → counts per operation (other fields ignored).
    static func apiCounts(_ fields: [String: String]) -> [(String, (calls: Int, throttled: Int))] {
        var out: [String: (calls: Int, throttled: Int)] = [:]
        for (field, value) in fields {
            guard let colon = field.lastIndex(of: ":"), let n = Int(value) else { continue }
            let operation = String(field[..<colon])
            guard !operation.isEmpty else { continue }
            switch field[field.index(after: colon)...] {
            case "calls": out[operation, default: (0, 0)].calls = n
            case "429": out[operation, default: (0, 0)].throttled = n
            default: continue
            }
        }
        return out.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func pairs(_ reply: RedisValue) -> [String: String] {
        guard let items = reply.array else { return [:] }
        var out: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string { out[key] = items[index + 1].string ?? "" }
            index += 2
        }
        return out
    }
}

/// One kind's job latency histogram as the queue stores it: one count per bucket (not cumulative), `sum_ms`.
struct LatencyHistogram: Sendable {
    static let name = "optmazon_job_latency_seconds"
    var kind: String
    var shard: String
    /// Upper bound (seconds, `.infinity` for `le_inf`) → jobs whose latency fell in that bucket only.
    var buckets: [Double: Int]
    var sumSeconds: Double

    init(kind: String, shard: String, fields: [String: String]) {
        self.kind = kind
        self.shard = shard
        var buckets: [Double: Int] = [:]
        for (field, value) in fields where field.hasPrefix("le_") {
            let bound = field.dropFirst(3)
            guard let n = Int(value), n > 0, let upper = bound == "inf" ? Double.infinity : Double(bound), upper >= 0 else { continue }
            buckets[upper, default: 0] += n
        }
        self.buckets = buckets
        self.sumSeconds = max(0, Double(fields["sum_ms"] ?? "") ?? 0) / 1000
    }

    /// Every histogram as one family: `_bucket` lines cumulative over the union of bounds, `+Inf`,
    /// `_sum` and `_count`. `_count` is the `+Inf` bucket (the sum of all buckets), so the two can
    /// never disagree even when a scrape lands between a worker's increments.
    static func render(_ histograms: [LatencyHistogram]) -> String {
        guard !histograms.isEmpty else { return "" }
        let bounds = Set(RedisKeys.latencyBounds.filter(\.isFinite)).union(histograms.flatMap { $0.buckets.keys.filter(\.isFinite) }).sorted()
        var out = "# HELP \(name) Time from enqueue to settle of completed and dead-lettered jobs\n# TYPE \(name) histogram\n"
        for histogram in histograms.sorted(by: { ($0.shard, $0.kind) < ($1.shard, $1.kind) }) {
            let labels = "kind=\"\(escape(histogram.kind))\",shard=\"\(escape(histogram.shard))\""
            var cumulative = 0
            for bound in bounds {
                cumulative += histogram.buckets[bound] ?? 0
                out += "\(name)_bucket{\(labels),le=\"\(format(bound))\"} \(cumulative)\n"
            }
            let total = histogram.buckets.values.reduce(0, +)
            out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(total)\n"
            out += "\(name)_sum{\(labels)} \(histogram.sumSeconds)\n"
            out += "\(name)_count{\(labels)} \(total)\n"
        }
        return out
    }

    /// `0.1`, `0.5`, `1`, `600`: whole numbers without a fraction, as Prometheus clients write them.
    static func format(_ bound: Double) -> String {
        bound == bound.rounded() && abs(bound) < 1e15 ? String(Int(bound)) : String(bound)
    }

    /// Label value escaping of the text format (backslash, double quote, line feed).
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
