import Domain
import Foundation

/// The versioned JSON message a job travels in: ids and small arguments only, never seller data.
///
/// Redis holds nothing that would need encryption at rest because envelopes carry no payload.
public struct JobEnvelope: Codable, Hashable, Sendable {
    /// Envelope format version this build reads and writes.
    public static let currentVersion = 1
    /// Longest accepted argument value, to keep Redis free of bulk data.
    public static let maxArgumentBytes = 1_024

    public var version: Int
    public var id: String
    public var kind: JobKind
    public var seller: SellerID
    public var arguments: [String: String]
    /// 0 on first delivery, incremented by each retry.
    public var attempt: Int
    /// Milliseconds since 1970 when first enqueued.
    public var enqueuedAt: Int64
    public var traceID: String
    /// How many times the job waited for its seller's lock (does not count as an attempt).
    public var deferrals: Int

    enum CodingKeys: String, CodingKey {
        case version = "v", id, kind, seller, arguments = "args", attempt, enqueuedAt = "enqueued_at",
             traceID = "trace_id", deferrals
    }

    public init(id: String = JobEnvelope.newID(), kind: JobKind, seller: SellerID, arguments: [String: String] = [:],
                attempt: Int = 0, enqueuedAt: Date = Date(), traceID: String? = nil, deferrals: Int = 0) {
        self.version = JobEnvelope.currentVersion
        self.id = id
        self.kind = kind
        self.seller = seller
        self.arguments = arguments
        self.attempt = attempt
        self.enqueuedAt = Int64(enqueuedAt.timeIntervalSince1970 * 1000)
        self.traceID = traceID ?? id
        self.deferrals = deferrals
    }

    /// Every field as stored (the fast JSON reader's initializer).
    init(version: Int, id: String, kind: JobKind, seller: SellerID, arguments: [String: String], attempt: Int,
         enqueuedAt: Int64, traceID: String, deferrals: Int) {
        self.version = version
        self.id = id
        self.kind = kind
        self.seller = seller
        self.arguments = arguments
        self.attempt = attempt
        self.enqueuedAt = enqueuedAt
        self.traceID = traceID
        self.deferrals = deferrals
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        guard version == JobEnvelope.currentVersion else {
            throw DecodingError.dataCorruptedError(forKey: .version, in: c, debugDescription: "unsupported envelope version \(version)")
        }
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(JobKind.self, forKey: .kind)
        seller = try c.decode(SellerID.self, forKey: .seller)
        arguments = try c.decodeIfPresent([String: String].self, forKey: .arguments) ?? [:]
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 0
        enqueuedAt = try c.decode(Int64.self, forKey: .enqueuedAt)
        traceID = try c.decodeIfPresent(String.self, forKey: .traceID) ?? id
        deferrals = try c.decodeIfPresent(Int.self, forKey: .deferrals) ?? 0
    }

    /// A random, URL-safe job id.
    public static func newID() -> String {
        UUID().uuidString.lowercased()
    }

    /// Checks the envelope before it enters the queue: known kind, small arguments.
    public func validate() throws(JobError) {
        guard JobKind.all.contains(kind) else {
            throw JobError.permanent("unknown job kind '\(kind)' (known: \(JobKind.all.map(\.rawValue).joined(separator: ", ")))")
        }
        for (key, value) in arguments where key.utf8.count + value.utf8.count > JobEnvelope.maxArgumentBytes {
            throw JobError.permanent("argument '\(key)' is larger than \(JobEnvelope.maxArgumentBytes) bytes; envelopes carry ids, not data")
        }
    }

    /// The compact JSON written to Redis, keys sorted (hand-written for speed, see ``EnvelopeJSON``).
    public func encoded() -> String {
        EnvelopeJSON.write(self)
    }

    /// Parses an envelope, or explains in one line why the message is not a valid job.
    ///
    /// The common form is read by ``EnvelopeJSON``'s fast path; anything else by `JSONDecoder`.
    public static func decode(_ text: String) -> Result<JobEnvelope, JobError> {
        if let envelope = EnvelopeJSON.parse(text) { return .success(envelope) }
        do {
            let envelope = try JSONDecoder().decode(JobEnvelope.self, from: Data(text.utf8))
            return .success(envelope)
        } catch let DecodingError.dataCorrupted(context) {
            return .failure(.permanent("malformed job message: \(context.debugDescription)"))
        } catch let DecodingError.keyNotFound(key, _) {
            return .failure(.permanent("malformed job message: missing field '\(key.stringValue)'"))
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(.permanent("malformed job message: field '\(path)' has the wrong type"))
        } catch {
            return .failure(.permanent("malformed job message: \(error)"))
        }
    }
}
