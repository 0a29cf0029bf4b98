import Domain
import Foundation
import JobQueue
import Testing

/// The hand-written envelope JSON must agree with Foundation's `Codable` path, which stays the reference.
@Suite("Envelope JSON agrees with JSONEncoder and JSONDecoder")
struct EnvelopeJSONTests {
    /// Strings that need escaping, or look like JSON, or are not ASCII.
    static let awkward = [
        "", "plain", "quote \" inside", "back\\slash", "slash / and \\/", "new\nline", "tab\tcr\r", "bell \u{07} nul \u{00}",
        "unit \u{1F} sep", "del \u{7F}", "é décomposé e\u{301}", "emoji 🧾 and CJK 日本", "line sep \u{2028} \u{2029}",
        "{\"v\":2}", "\\u0041", "trailing \\",
    ]

    static func reference(_ text: String) -> JobEnvelope? {
        try? JSONDecoder().decode(JobEnvelope.self, from: Data(text.utf8))
    }

    @Test("what encoded() writes, JSONDecoder reads back to the same envelope", arguments: awkward)
    func encodedIsJSON(text: String) throws {
        let job = JobEnvelope(id: "id-\(text)", kind: .fetch, seller: SellerID(rawValue: "A1")!,
                              arguments: [text: text, "day": "2026-11-29", "x\(text)": ""], attempt: 3,
                              traceID: "trace \(text)", deferrals: 2)
        let decoded = try #require(Self.reference(job.encoded()), "JSONDecoder rejected \(job.encoded())")
        #expect(decoded == job)
        guard case let .success(fast) = JobEnvelope.decode(job.encoded()) else { Issue.record("decode failed"); return }
        #expect(fast == job)
    }

    @Test("encoded() sorts keys like JSONEncoder's .sortedKeys, and matches it byte for byte on plain text")
    func sameBytesAsJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let jobs = [
            JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "A1B2")!),
            JobEnvelope(id: "x", kind: .analyze, seller: SellerID(rawValue: "S-1_z")!, arguments: ["b": "2", "a": "1", "run": "r-7"],
                        attempt: 7, enqueuedAt: Date(timeIntervalSince1970: 1_764_460_000.123), traceID: "t", deferrals: 12),
        ]
        for job in jobs {
            #expect(job.encoded() == String(decoding: try encoder.encode(job), as: UTF8.self))
        }
    }

    @Test("the fast reader and JSONDecoder give the same result for every message", arguments: [
        // The common form and harmless variations the fast path reads itself.
        #"{"args":{},"attempt":0,"deferrals":0,"enqueued_at":1764460000000,"id":"a","kind":"fetch","seller":"S1","trace_id":"a","v":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #" { "v" : 1 , "id" : "a" , "kind":"fetch","seller":"S1","enqueued_at":-0,"args":{ "k" : "v" , "k2":"é"} } "#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":9223372036854775807,"attempt":-3}"#,
        // Forms the fast path leaves to JSONDecoder; the answers must still be JSONDecoder's.
        #"{"v":1,"id":"a\"b","kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #"{"v":1,"id":"\u0041","kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1,"extra":[1,{"x":null}]}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1,"attempt":null}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1.0}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1e3}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":01}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":9223372036854775808}"#,
        #"{"v":1,"id":"a","id":"b","kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1,"args":{"k":"1","k":"2"}}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1,"args":{"k":1}}"#,
        #"{"v":2,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"../x","enqueued_at":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1"}"#,
        #"{"v":1,"id":7,"kind":"fetch","seller":"S1","enqueued_at":1}"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1}x"#,
        #"{"v":1,"id":"a","kind":"fetch","seller":"S1","enqueued_at":1,}"#,
        "{\"v\":1,\"id\":\"a\tb\",\"kind\":\"fetch\",\"seller\":\"S1\",\"enqueued_at\":1}",
        "[]", "", "{", "null", "{}",
    ])
    func agreesWithJSONDecoder(text: String) {
        let expected = Self.reference(text)
        switch JobEnvelope.decode(text) {
        case let .success(envelope):
            #expect(envelope == expected, "JSONDecoder read \(String(describing: expected))")
        case let .failure(error):
            #expect(expected == nil, "decode refused what JSONDecoder read: \(error)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("random envelopes survive encoded() and decode() unchanged")
    func randomRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = Array("aZ09 _-\"\\/\n\t\u{01}\u{1F}é🧾日{}[],:")
        func text(_ maxLength: Int) -> String {
            String((0..<Int.random(in: 0...maxLength, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<300 {
            var arguments: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) { arguments[text(8)] = text(12) }
            let job = JobEnvelope(id: text(20), kind: JobKind.all.randomElement(using: &generator)!, seller: SellerID(rawValue: "S\(Int.random(in: 0...999))")!,
                                  arguments: arguments, attempt: Int.random(in: 0...9), enqueuedAt: Date(timeIntervalSince1970: Double.random(in: 0...2e9)),
                                  traceID: text(20), deferrals: Int.random(in: 0...99))
            let encoded = job.encoded()
            #expect(Self.reference(encoded) == job, "JSONDecoder disagrees on \(encoded)")
            guard case let .success(decoded) = JobEnvelope.decode(encoded) else { Issue.record("could not decode \(encoded)"); continue }
            #expect(decoded == job)
        }
    }
}
