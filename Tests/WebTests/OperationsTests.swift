import AsyncHTTPClient
import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Redis
import SellerStore
import Testing
import Web

@Suite("/healthz")
struct HealthTests {
    @Test("answers 200 JSON when Redis and the key directory are reachable, 503 naming the key directory when it is gone")
    func keyDirectory() async throws {
        let web = try await WebHarness.start()
        let up = try await web.get("/healthz")
        #expect(up.status == 200)
        #expect(up.header("Content-Type")?.hasPrefix("application/json") == true)
        let json = try JSONSerialization.jsonObject(with: Data(up.body.utf8)) as? [String: Any]
        #expect(json?["status"] as? String == "ok")
        #expect((json?["checks"] as? [String: String]) == ["redis": "ok", "key_directory": "ok"])

        let keys = web.storage.locations.keyDirectory
        try FileManager.default.moveItem(atPath: keys, toPath: keys + ".moved")
        let down = try await web.get("/healthz")
        #expect(down.status == 503)
        let failed = try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any]
        #expect(failed?["failed"] as? [String] == ["key_directory"], "\(down.body)")
        #expect((failed?["checks"] as? [String: String])?["redis"] == "ok")
        try FileManager.default.moveItem(atPath: keys + ".moved", toPath: keys)
        #expect(try await web.get("/healthz").status == 200)
        await web.stop()
    }

    @Test("answers 503 naming Redis while Redis is down (and /metrics fails the scrape), 200 again once it is back")
    func redisDown() async throws {
        let redis = try await RedisTestServer.start(appendOnly: false)
        let web = try await WebHarness.start(redis: redis.endpoint)
        #expect(try await web.get("/healthz").status == 200)
        redis.stop()
        let down = try await web.get("/healthz")
        #expect(down.status == 503)
        let failed = try JSONSerialization.jsonObject(with: Data(down.body.utf8)) as? [String: Any]
        #expect(failed?["failed"] as? [String] == ["redis"], "\(down.body)")
        #expect(((failed?["checks"] as? [String: String])?["redis"])?.hasPrefix("failed: ") == true)
        let scrape = try await web.get("/metrics")
        #expect(scrape.status == 503 && scrape.body.contains("metrics unavailable"))

        let back = try await redis.restarted()
        try await eventually("healthz recovers", timeout: 30) { try await web.get("/healthz").status == 200 }
        back.stop()
        await web.stop()
    }
}

@Suite("/metrics")
struct MetricsTests {
    @Test("parses as Prometheus text and reports queue, job, latency, API and wipe figures from Redis and the registry")
    func metrics() async throws {
        let web = try await WebHarness.start()
        let seller = SellerID(rawValue: "AMETRICS1")!
        for _ in 0..<3 {
            _ = try await web.queue.enqueue(JobEnvelope(kind: .fetch, seller: seller), at: nil, uniqueKey: nil, uniqueFor: 0)
        }
        _ = try await web.queue.enqueue(JobEnvelope(kind: .analyze, seller: seller), at: Date().addingTimeInterval(3600), uniqueKey: nil, uniqueFor: 0)
        let keys = web.keys
        _ = try await web.queue.client.pipeline([
            ["HSET", keys.stats(.fetch), "processed", "7", "failed", "1", "retried", "2"],
            ["HSET", keys.latency(.fetch), "le_0.1", "2", "le_5", "1", "le_inf", "1", "sum_ms", "12345", "count", "4"],
            ["HSET", keys.apiStats, "getListingsItem:calls", "10", "getListingsItem:429", "2", "createReport:calls", "3", "junk", "x"],
            ["HSET", keys.consumers, "worker-1", "{}"],
        ])
        let now = web.clock.now()
        for raw in ["AACTIVE", "AREVOKED"] {
            try await web.control.register(try SellerRegistration(sellerID: SellerID(rawValue: raw)!, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"],
                                                                  spRefreshToken: Secret("Atzr|m")), at: now.addingTimeInterval(-10 * 86_400))
        }
        try await web.control.setStatus(of: SellerID(rawValue: "AREVOKED")!, to: .revoked, at: now.addingTimeInterval(-2 * 86_400))

        let scrape = try await web.get("/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = try PrometheusText(scrape.body)
        let fetch = ["kind": "fetch", "shard": "0"]
        #expect(text.types["optmazon_queue_depth"] == "gauge")
        #expect(text.value("optmazon_queue_depth", fetch) == 3)
        #expect(text.value("optmazon_queue_pending", fetch) == 0)
        #expect(text.value("optmazon_queue_delayed", ["kind": "analyze"]) == 1)
        #expect(text.value("optmazon_queue_dead", fetch) == 0)
        #expect(text.types["optmazon_jobs_processed_total"] == "counter")
        #expect(text.value("optmazon_jobs_processed_total", fetch) == 7)
        #expect(text.value("optmazon_jobs_failed_total", fetch) == 1)
        #expect(text.value("optmazon_jobs_retried_total", fetch) == 2)

        #expect(text.types["optmazon_job_latency_seconds"] == "histogram")
        let buckets: [(String, Double)] = [("0.1", 2), ("0.5", 2), ("1", 2), ("5", 3), ("30", 3), ("120", 3), ("600", 3), ("+Inf", 4)]
        for (le, count) in buckets {
            #expect(text.value("optmazon_job_latency_seconds_bucket", fetch.merging(["le": le]) { $1 }) == count, "le=\(le)")
        }
        #expect(text.value("optmazon_job_latency_seconds_count", fetch) == 4)
        #expect(text.value("optmazon_job_latency_seconds_sum", fetch) == 12.345)
        #expect(text.value("optmazon_job_latency_seconds_count", ["kind": "wipe"]) == 0, "kinds without jobs report an empty histogram")

        #expect(text.value("optmazon_amazon_api_calls_total", ["operation": "getListingsItem"]) == 10)
        #expect(text.value("optmazon_amazon_api_throttled_total", ["operation": "getListingsItem"]) == 2)
        #expect(text.value("optmazon_amazon_api_throttled_total", ["operation": "createReport"]) == 0)
        #expect(!text.samples.contains { $0.labels["operation"] == "junk" })
        #expect(text.value("optmazon_workers") == 1)

        #expect(text.value("optmazon_sellers", ["status": "active"]) == 1)
        #expect(text.value("optmazon_wipes_pending") == 1)
        #expect(text.value("optmazon_wipes_overdue") == 1, "revoked two days ago, past the one-day target")
        #expect(text.value("optmazon_wipes_completed_total") == 0)
        await web.stop()
    }
}

@Suite("the strict Prometheus text reader used by the /metrics test")
struct PrometheusTextTests {
    @Test("accepts well-formed text and refuses each kind of malformed exposition", arguments: [
        ("no trailing newline", "a 1"),
        ("bad metric name", "1abc 1\n"),
        ("bad label syntax", "a{b=1} 1\n"),
        ("unterminated labels", "a{b=\"1\" 1\n"),
        ("bad escape", "a{b=\"\\x\"} 1\n"),
        ("bad value", "a 1.2.3\n"),
        ("two spaces", "a  1\n"),
        ("unknown comment", "# NOTE a\na 1\n"),
        ("unknown type", "# TYPE a thing\na 1\n"),
        ("TYPE after samples", "a 1\n# TYPE a gauge\n"),
        ("non-contiguous family", "a 1\nb 1\na{x=\"1\"} 2\n"),
        ("duplicate series", "a{x=\"1\"} 1\na{x=\"1\"} 2\n"),
        ("negative counter", "# TYPE c_total counter\nc_total -1\n"),
        ("decreasing buckets", "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"),
        ("count differs from +Inf", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"),
        ("no +Inf bucket", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
        ("buckets out of order", "# TYPE h histogram\nh_bucket{le=\"5\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
        ("empty line", "a 1\n\nb 2\n"),
    ])
    func refusesMalformed(_ name: String, _ text: String) throws {
        #expect(throws: PrometheusText.Failure.self, "\(name)") { try PrometheusText(text) }
    }

    @Test("reads a valid exposition with escapes, histograms and timestamps")
    func acceptsValid() throws {
        let text = try PrometheusText("""
            # HELP h Latency \\\\ with escapes\\n
            # TYPE h histogram
            h_bucket{k="a\\"b",le="0.5"} 1
            h_bucket{k="a\\"b",le="+Inf"} 2
            h_sum{k="a\\"b"} 0.75
            h_count{k="a\\"b"} 2
            # TYPE g gauge
            g 3.5 1700000000000
            g_other NaN

            """)
        #expect(text.value("h_count", ["k": "a\"b"]) == 2)
        #expect(text.value("g") == 3.5)
    }
}

@Suite("the optmazon-web executable")
struct ExecutableTests {
    @Test("refuses to start without OPTMAZON_WEB_STATE_SECRET in one line; otherwise listens, serves /healthz and stops on SIGTERM")
    func process() async throws {
        let root = try TemporaryDirectory.make(prefix: "webexe")
        let endpoint = try await SharedRedis.endpoint()
        let prefix = SharedRedis.uniquePrefix()
        let master = MasterKey.generate()
        var env = [
            "OPTMAZON_REDIS_URL": "redis://\(endpoint.host):\(endpoint.port)/0", "OPTMAZON_KEY_PREFIX": prefix,
            "OPTMAZON_DATA_DIR": root.appendingPathComponent("data").path, "OPTMAZON_KEY_DIR": root.appendingPathComponent("keys").path,
            "OPTMAZON_MASTER_KEY": master.base64EncodedSecret(), "OPTMAZON_MASTER_KEY_FILE": "",
            "OPTMAZON_LWA_CLIENT_SECRET": "exe-secret", "OPTMAZON_WEB_STATE_SECRET": "",
        ]
        let refused = try await ProductProcess.run("optmazon-web", ["--port", "0"], environment: env)
        #expect(refused.status == 2)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("OPTMAZON_WEB_STATE_SECRET"), "\(refused.stderr)")

        env["OPTMAZON_WEB_STATE_SECRET"] = WebHarness.stateSecret
        let server = try ProductProcess("optmazon-web", arguments: ["--host", "127.0.0.1", "--port", "0"], environment: env)
        try await eventually("optmazon-web prints where it listens", timeout: 60) { server.standardOutput.contains("listening on") || !server.isRunning }
        let line = try #require(server.standardOutput.split(separator: "\n").first { $0.contains("listening on http://127.0.0.1:") }, "\(server.standardError)")
        let url = String(line[line.range(of: "http://")!.lowerBound...])
        let health = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(30))
        #expect(health.status == .ok)
        server.signal(SIGTERM)
        #expect(try await server.wait(timeout: 60) == 0, "\(server.standardError)")
        #expect(!server.standardError.contains("exe-secret") && !server.standardOutput.contains(WebHarness.stateSecret))
        try await SharedRedis.deleteKeys(prefix: prefix)
        try? FileManager.default.removeItem(at: root)
    }
}
