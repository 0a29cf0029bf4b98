import Configuration
import Foundation
import JobQueue
import JobQueueRedis
import Redis
import SystemPackage

/// Every setting a process reads, parsed and checked once at start.
///
/// Values come from `config/optmazon.json` (or `OPTMAZON_CONFIG_FILE`), each overridden by its
/// `OPTMAZON_` environment twin (`redis.url` ↔ `OPTMAZON_REDIS_URL`). File values are strings,
/// written exactly as they would be in the environment. Secrets (master key, LWA secret,
/// AI API key) are read from the environment only, never from the file in the repo.
public struct Settings: Sendable {
    public var redisURL: String
    public var redis: RedisEndpoint
    public var keys: RedisKeys
    public var worker: WorkerSettings
    public var deadLetterCap: Int
    public var logLevel: String
    public var logFormat: String
    public var dataDir: String
    public var keyDir: String
    public var retentionDays: Int
    public var amazon: AmazonSettings
    /// Raw string values of every known key, for components that read their own (never secrets).
    public var raw: [String: String]

    /// Worker tuning shared by every worker executable (flags override per process).
    public struct WorkerSettings: Sendable {
        public var concurrency: Int
        public var batchSize: Int
        public var blockSeconds: Double
        public var visibilityTimeout: Double
        public var shutdownGrace: Double
        public var retry: RetryPolicy
    }

    /// Where Amazon's services are; pointing these at Amazon is the only change production needs.
    public struct AmazonSettings: Sendable {
        public var spapiURL: String
        public var lwaURL: String
        public var adsURL: String
        public var lwaClientID: String
        public var minimumTLS: String
    }
}

/// A missing or invalid setting, naming the key, its environment variable and what is wrong.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String

    public var description: String {
        "config: \(key) (\(ConfigKeys.environmentName(key))): \(message)"
    }
}

/// The documented list of keys with defaults; README's table is generated from the same facts.
public enum ConfigKeys {
    public struct Key: Sendable {
        public let name: String
        public let defaultValue: String
        public let help: String

        public init(name: String, defaultValue: String, help: String) {
            self.name = name
            self.defaultValue = defaultValue
            self.help = help
        }
    }

    public static let all: [Key] = [
        Key(name: "redis.url", defaultValue: "redis://127.0.0.1:6379/0", help: "Redis URL; AUTH/ACL credentials go here"),
        Key(name: "key.prefix", defaultValue: "optmazon", help: "prefix of every Redis key"),
        Key(name: "shard.index", defaultValue: "0", help: "shard this machine's workers consume"),
        Key(name: "shard.count", defaultValue: "1", help: "number of shards sellers are spread over"),
        Key(name: "worker.concurrency", defaultValue: "4", help: "jobs run at once per worker process"),
        Key(name: "worker.batch.size", defaultValue: "100", help: "most jobs read from Redis in one call"),
        Key(name: "worker.block.seconds", defaultValue: "1", help: "longest blocking read (bounds stop latency)"),
        Key(name: "worker.visibility.timeout", defaultValue: "60", help: "seconds a silent lease lasts before another worker takes the job"),
        Key(name: "worker.shutdown.grace", defaultValue: "25", help: "seconds in-flight jobs get after SIGTERM"),
        Key(name: "retry.max.attempts", defaultValue: "8", help: "attempts before a job is dead-lettered"),
        Key(name: "retry.base.delay", defaultValue: "2", help: "seconds before the first retry (doubles each time, with jitter)"),
        Key(name: "retry.max.delay", defaultValue: "900", help: "longest delay between retries, seconds"),
        Key(name: "dead.letter.cap", defaultValue: "10000", help: "dead-letter stream length cap"),
        Key(name: "log.level", defaultValue: "info", help: "trace, debug, info, notice, warning, error, critical"),
        Key(name: "log.format", defaultValue: "logfmt", help: "logfmt or json"),
        Key(name: "data.dir", defaultValue: "var/data", help: "directory of the encrypted seller stores"),
        Key(name: "key.dir", defaultValue: "var/keys", help: "directory of the wrapped seller keys (keep apart from data.dir)"),
        Key(name: "retention.days", defaultValue: "90", help: "rolling window of seller data kept"),
        Key(name: "spapi.url", defaultValue: "http://127.0.0.1:8700", help: "SP-API base URL (production: https://sellingpartnerapi-na.amazon.com)"),
        Key(name: "lwa.url", defaultValue: "http://127.0.0.1:8700/auth/o2/token", help: "LWA token URL (production: https://api.amazon.com/auth/o2/token)"),
        Key(name: "ads.url", defaultValue: "http://127.0.0.1:8700", help: "Ads API base URL (production: https://advertising-api.amazon.com)"),
        Key(name: "lwa.client.id", defaultValue: "amzn1.application-oa2-client.optmazon-sandbox", help: "the app's LWA client id"),
        Key(name: "tls.minimum", defaultValue: "1.3", help: "minimum TLS version for https endpoints (1.2 or 1.3)"),
    ]

    /// Secret keys: environment only.
    public static let secrets: [Key] = [
        Key(name: "master.key.file", defaultValue: "", help: "file holding the base64 256-bit master key"),
        Key(name: "master.key", defaultValue: "", help: "the base64 master key itself (when no file)"),
        Key(name: "lwa.client.secret", defaultValue: "", help: "the app's LWA client secret"),
    ]

    /// `worker.batch.size` → `OPTMAZON_WORKER_BATCH_SIZE`.
    public static func environmentName(_ key: String) -> String {
        "OPTMAZON_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension Settings {
    /// Reads the file and environment; throws a ``ConfigError`` naming the first bad key.
    /// - Parameter extraKeys: keys of one executable's own component (e.g. `scheduler.*`), read the same way into ``raw``.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            extraKeys: [ConfigKeys.Key] = []) async throws -> Settings {
        let filePath = environment["OPTMAZON_CONFIG_FILE"] ?? "config/optmazon.json"
        let explicit = environment["OPTMAZON_CONFIG_FILE"] != nil
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: environment)]
        if FileManager.default.fileExists(atPath: filePath) {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(filePath)))
            } catch {
                throw ConfigError(key: "config.file", message: "cannot read \(filePath): \(error)")
            }
        } else if explicit {
            throw ConfigError(key: "config.file", message: "\(filePath) does not exist")
        }
        let reader = ConfigReader(providers: providers).scoped(to: "optmazon")
        var raw: [String: String] = [:]
        for key in ConfigKeys.all + extraKeys {
            raw[key.name] = reader.string(forKey: ConfigKey(key.name)) ?? key.defaultValue
        }
        return try Settings(raw: raw)
    }

    /// Parses already-gathered raw values (also what tests use).
    public init(raw: [String: String]) throws {
        func value(_ key: String) -> String {
            raw[key] ?? ConfigKeys.all.first { $0.name == key }!.defaultValue
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let n = Int(value(key).trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw ConfigError(key: key, message: "'\(value(key))' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>) throws -> Double {
            guard let n = Double(value(key).trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw ConfigError(key: key, message: "'\(value(key))' must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        func oneOf(_ key: String, _ allowed: [String]) throws -> String {
            let v = value(key).lowercased()
            guard allowed.contains(v) else {
                throw ConfigError(key: key, message: "'\(value(key))' must be one of \(allowed.joined(separator: ", "))")
            }
            return v
        }
        func url(_ key: String) throws -> String {
            let v = value(key)
            guard let u = URL(string: v), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
                throw ConfigError(key: key, message: "'\(v)' is not an http(s) URL")
            }
            return v
        }
        func nonEmpty(_ key: String) throws -> String {
            let v = value(key)
            guard !v.isEmpty else { throw ConfigError(key: key, message: "must not be empty") }
            return v
        }

        redisURL = value("redis.url")
        do {
            redis = try RedisEndpoint(url: redisURL)
        } catch {
            throw ConfigError(key: "redis.url", message: error.message)
        }
        let prefix = try nonEmpty("key.prefix")
        guard prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ConfigError(key: "key.prefix", message: "'\(prefix)' may hold letters, digits, '-', '_' and '.' only")
        }
        let shardCount = try int("shard.count", 1...1024)
        let shard = try int("shard.index", 0...1023)
        guard shard < shardCount else {
            throw ConfigError(key: "shard.index", message: "\(shard) must be below shard.count (\(shardCount))")
        }
        keys = RedisKeys(prefix: prefix, shard: shard, shardCount: shardCount)
        let visibility = try seconds("worker.visibility.timeout", 1...86_400)
        worker = WorkerSettings(
            concurrency: try int("worker.concurrency", 1...1024),
            batchSize: try int("worker.batch.size", 1...10_000),
            blockSeconds: try seconds("worker.block.seconds", 0.01...30),
            visibilityTimeout: visibility,
            shutdownGrace: try seconds("worker.shutdown.grace", 0...3600),
            retry: RetryPolicy(maxAttempts: try int("retry.max.attempts", 1...100),
                               baseDelay: try seconds("retry.base.delay", 0.001...86_400),
                               maxDelay: try seconds("retry.max.delay", 0.001...604_800)))
        deadLetterCap = try int("dead.letter.cap", 10...10_000_000)
        logLevel = try oneOf("log.level", ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        logFormat = try oneOf("log.format", ["logfmt", "json"])
        dataDir = try nonEmpty("data.dir")
        keyDir = try nonEmpty("key.dir")
        guard URL(fileURLWithPath: dataDir).standardizedFileURL != URL(fileURLWithPath: keyDir).standardizedFileURL else {
            throw ConfigError(key: "key.dir", message: "must not be the same directory as data.dir")
        }
        retentionDays = try int("retention.days", 1...3650)
        amazon = AmazonSettings(spapiURL: try url("spapi.url"), lwaURL: try url("lwa.url"), adsURL: try url("ads.url"),
                                lwaClientID: try nonEmpty("lwa.client.id"), minimumTLS: try oneOf("tls.minimum", ["1.2", "1.3"]))
        var known = raw
        for key in ConfigKeys.all where known[key.name] == nil { known[key.name] = key.defaultValue }
        self.raw = known
    }
}
