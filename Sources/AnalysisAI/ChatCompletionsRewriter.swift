import Analysis
import AsyncHTTPClient
import Foundation
import NIOCore

/// Where and how to reach an OpenAI-compatible chat-completions endpoint.
public struct ChatCompletionsConfig: Sendable, CustomStringConvertible {
    /// Base URL (`https://host/v1`) or the full `…/chat/completions` URL.
    public var endpoint: String
    public var model: String
    /// Sent as `Authorization: Bearer …`; never printed, logged or put in an error.
    public var apiKey: String
    /// Whole-request deadline; past it the rule-based rewrite is used.
    public var timeout: Duration
    /// Largest answer read, in bytes.
    public var maxResponseBytes: Int

    public init(endpoint: String, model: String, apiKey: String, timeout: Duration = .seconds(30),
                maxResponseBytes: Int = 1 << 20) {
        self.endpoint = endpoint
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// The endpoint configured by `OPTMAZON_AI_URL`, `OPTMAZON_AI_MODEL` and `OPTMAZON_AI_API_KEY`, or nil
    /// when URL or model is missing (then the analyzer uses the rule-based rewrite). The key may be empty
    /// for local endpoints that need none. `OPTMAZON_AI_TIMEOUT_SECONDS` overrides the 30 s deadline.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ChatCompletionsConfig? {
        guard let url = environment["OPTMAZON_AI_URL"], !url.isEmpty,
              let model = environment["OPTMAZON_AI_MODEL"], !model.isEmpty else { return nil }
        let configured = environment["OPTMAZON_AI_TIMEOUT_SECONDS"].flatMap(Double.init) ?? 30
        let seconds = configured > 0 ? configured : 30
        return ChatCompletionsConfig(endpoint: url, model: model, apiKey: environment["OPTMAZON_AI_API_KEY"] ?? "",
                                     timeout: .milliseconds(Int64(seconds * 1000)))
    }

    /// The chat-completions URL derived from `endpoint`.
    public var completionsURL: String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base.hasSuffix("/chat/completions") ? base : base + "/chat/completions"
    }

    /// Endpoint and model only: the key is redacted.
    public var description: String { "chat completions at \(completionsURL) (model \(model), key redacted)" }
}

/// Why an external rewrite was not used; one line, never containing the API key or listing text.
public enum AIRewriteError: Error, Equatable, Sendable, CustomStringConvertible {
    case timeout(seconds: Double)
    case transport(String)
    case httpStatus(Int)
    case refusal(String)
    case malformed(String)
    case nonCompliant([String])

    public var description: String {
        switch self {
        case let .timeout(seconds): return "AI rewrite timed out after \(seconds) s"
        case let .transport(reason): return "AI rewrite request failed: \(reason)"
        case let .httpStatus(code): return "AI rewrite endpoint answered HTTP \(code)"
        case let .refusal(reason): return "AI rewrite refused: \(reason.prefix(200))"
        case let .malformed(reason): return "AI rewrite answer malformed: \(reason)"
        case let .nonCompliant(reasons): return "AI rewrite rejected: " + reasons.joined(separator: "; ")
        }
    }
}

/// Asks an OpenAI-compatible chat-completions endpoint for a rewritten title, bullets and backend terms.
///
/// The prompt carries listing content (title, bullets, backend terms, brand) and aggregate keyword data
/// (query, volume, purchases, missing words) only: no seller id, SKU, ASIN, price or advertising data.
/// Every answer is validated with the same rules as the listing score; timeouts, HTTP errors, refusals,
/// malformed or non-compliant answers fall back to the rule-based rewrite, the reason kept in `rejectedReason`.
public struct ChatCompletionsRewriter: ListingRewriter {
    public var config: ChatCompletionsConfig
    public var analysisConfig: AnalysisConfig
    let client: HTTPClient

    /// `httpClient` defaults to the process-wide shared client, whose lifecycle AsyncHTTPClient manages.
    public init(config: ChatCompletionsConfig, analysisConfig: AnalysisConfig = .init(), httpClient: HTTPClient = .shared) {
        self.config = config
        self.analysisConfig = analysisConfig
        self.client = httpClient
    }

    public func rewrite(_ request: RewriteRequest) async -> ListingRewrite {
        do {
            let content = try await proposal(for: request)
            let validator = RewriteValidator(config: analysisConfig)
            let words = Set((Self.words(content.title) + content.bullets.flatMap(Self.words) + Self.words(content.backendKeywords)))
            let added = request.keywordGaps.flatMap(\.missingWords).reduce(into: [String]()) { out, w in
                if words.contains(w), !out.contains(w) { out.append(w) }
            }
            return validator.record(content, for: request, source: "ai:" + config.model, keywordsAdded: added, rejectedReason: nil)
        } catch {
            return RuleBasedRewriter(config: analysisConfig).rewriteNow(request, rejectedReason: error.description)
        }
    }

    /// The endpoint's answer for `request`, parsed and validated; the description is kept from the rule-based clean-up.
    public func proposal(for request: RewriteRequest) async throws(AIRewriteError) -> ListingContent {
        let body: Data
        do {
            body = try JSONEncoder().encode(Self.requestBody(for: request, model: config.model, config: analysisConfig))
        } catch {
            throw .malformed("could not encode the prompt")
        }
        var http = HTTPClientRequest(url: config.completionsURL)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "application/json")
        if !config.apiKey.isEmpty { http.headers.add(name: "Authorization", value: "Bearer " + config.apiKey) }
        http.body = .bytes(ByteBuffer(bytes: body))

        let seconds = Double(config.timeout.components.seconds) + Double(config.timeout.components.attoseconds) / 1e18
        let answer: ByteBuffer
        do {
            let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
            let response = try await client.execute(http, deadline: deadline)
            guard (200..<300).contains(response.status.code) else { throw AIRewriteError.httpStatus(Int(response.status.code)) }
            answer = try await response.body.collect(upTo: config.maxResponseBytes)
        } catch let error as AIRewriteError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timeout(seconds: seconds)
        } catch is NIOTooManyBytesError {
            throw .malformed("answer larger than \(config.maxResponseBytes) bytes")
        } catch {
            throw .transport(String(describing: error).prefix(200).description)
        }
        let content = try Self.parse(Data(answer.readableBytesView))
        let candidate = ListingContent(title: content.title, bullets: content.bullets, backendKeywords: content.backendKeywords,
                                       description: RuleBasedRewriter(config: analysisConfig).cleanDescription(request.current.description))
        let failures = RewriteValidator(config: analysisConfig).failures(of: candidate, for: request)
        guard failures.isEmpty else { throw .nonCompliant(failures) }
        return candidate
    }

    // MARK: Wire format

    struct Message: Codable, Equatable, Sendable {
        var role: String
        var content: String
    }

    struct RequestBody: Encodable {
        struct ResponseFormat: Encodable { var type = "json_object" }
        var model: String
        var messages: [Message]
        var temperature = 0.0
        var response_format = ResponseFormat()
    }

    /// The listing content and aggregate keyword data the model sees: nothing else.
    struct PromptData: Encodable {
        struct Keyword: Encodable {
            var query: String
            var searchVolume: Int
            var purchases: Int
            var missingWords: [String]
            var suggestedPlacement: String
        }

        var brand: String
        var title: String
        var bullets: [String]
        var backendKeywords: String
        var keywordGaps: [Keyword]
        var problems: [String]
    }

    struct Answer: Decodable {
        var title: String
        var bullets: [String]
        var backendKeywords: String
    }

    struct Completion: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
                var refusal: String?
            }

            var message: Message?
            var finish_reason: String?
        }

        var choices: [Choice]?
    }

    static func systemPrompt(_ c: AnalysisConfig) -> String {
        """
        You rewrite Amazon product listings. Answer with one JSON object and nothing else: \
        {"title": string, "bullets": [string], "backendKeywords": string}. Rules: title at most \(c.titleMaxCharacters) \
        characters, none of the characters \(c.titleBannedCharacters.map { String($0) }.joined(separator: " ")), no word more \
        than \(c.titleMaxWordRepeats) times except articles, prepositions and conjunctions, no promotional phrases; \
        \(c.bulletsExpected) bullets of at most \(c.bulletMaxCharacters) characters, no emojis, no ™ ® € … † ‡ ¢ £ ¥ © ± ~, \
        no ASINs, no placeholder text, no refund, guarantee or environmental or health claims; backend keywords at most \
        \(c.backendMaxBytes) UTF-8 bytes, lowercase words separated by single spaces, no brand names, no ASINs, no word \
        repeated, no word already in the title or bullets, no stop words, no subjective or temporary words such as best, \
        new or sale. Keep every product fact from the input and invent none. Work in the missing words of the keyword gaps, \
        best first.
        """
    }

    static func requestBody(for request: RewriteRequest, model: String, config: AnalysisConfig) -> RequestBody {
        let data = PromptData(
            brand: request.brand, title: request.current.title, bullets: request.current.bullets,
            backendKeywords: request.current.backendKeywords,
            keywordGaps: request.keywordGaps.map {
                .init(query: $0.query, searchVolume: $0.volume, purchases: $0.purchases, missingWords: $0.missingWords,
                      suggestedPlacement: $0.placement.rawValue)
            },
            problems: request.violations.filter { $0.field != .description }.map(\.message))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let user = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return RequestBody(model: model, messages: [Message(role: "system", content: systemPrompt(config)),
                                                    Message(role: "user", content: user)])
    }

    /// The rewrite inside a chat-completions answer; refusals and anything not matching the schema are errors.
    static func parse(_ data: Data) throws(AIRewriteError) -> Answer {
        let completion: Completion
        do {
            completion = try JSONDecoder().decode(Completion.self, from: data)
        } catch {
            throw .malformed("not a chat-completions JSON object")
        }
        guard let choice = completion.choices?.first, let message = choice.message else { throw .malformed("no choices") }
        if let refusal = message.refusal, !refusal.isEmpty { throw .refusal(refusal) }
        if choice.finish_reason == "content_filter" { throw .refusal("content filter") }
        guard var text = message.content?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw .malformed("empty message content")
        }
        if text.hasPrefix("```") {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .filter { !$0.hasPrefix("```") }.joined(separator: "\n")
        }
        if choice.finish_reason == "length" { throw .malformed("answer cut off at the token limit") }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(text.utf8))
        } catch {
            throw .malformed("content is not {title, bullets, backendKeywords} JSON")
        }
    }

    static func words(_ s: String) -> [String] {
        s.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }
}
