import Foundation
import HTTPTesting
import Hummingbird
import NIOCore

/// What the stub endpoint received, so tests can check what left the process.
actor ReceivedRequests {
    private(set) var bodies: [String] = []
    private(set) var authorizations: [String] = []

    func record(body: String, authorization: String) {
        bodies.append(body)
        authorizations.append(authorization)
    }
}

/// A chat-completions stub on 127.0.0.1 (ephemeral port). The first path segment picks the behaviour:
/// `ok`, `fenced`, `refuse`, `filtered`, `malformed`, `noncompliant`, `slow`, `error`.
enum StubEndpoint {
    static let compliantAnswer = """
    {"title": "Acme Glass Water Bottle 20 oz with Silicone Sleeve", \
    "bullets": ["Borosilicate glass holds 20 ounces.", "A silicone sleeve protects the glass.", \
    "The screw lid seals tight.", "Wide mouth for ice and fruit.", "Dishwasher safe body and lid."], \
    "backendKeywords": "carafe decanter tumbler jar"}
    """
    static let nonCompliantAnswer = """
    {"title": "Acme Glass Water Bottle!! Best Seller", "bullets": ["Glass bottle 🧊"], "backendKeywords": "best acme bottle"}
    """

    static func completion(content: String?, refusal: String? = nil, finish: String = "stop") -> String {
        var message: [String: Any] = ["role": "assistant"]
        message["content"] = content ?? NSNull()
        if let refusal { message["refusal"] = refusal }
        let object: [String: Any] = ["id": "chatcmpl-stub", "object": "chat.completion",
                                     "choices": [["index": 0, "message": message, "finish_reason": finish]]]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs the stub, hands `body` its base URL (`http://127.0.0.1:PORT`), and stops the server afterwards.
    static func run<T: Sendable>(recording received: ReceivedRequests,
                                 _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post(":mode/chat/completions") { request, context -> Response in
            let mode = context.parameters.get("mode") ?? ""
            let bytes = try await request.body.collect(upTo: 1 << 20)
            await received.record(body: String(buffer: bytes), authorization: request.headers[.authorization] ?? "")
            let json: String
            switch mode {
            case "ok": json = completion(content: compliantAnswer)
            case "fenced": json = completion(content: "```json\n" + compliantAnswer + "\n```")
            case "refuse": json = completion(content: nil, refusal: "I can't help with that.")
            case "filtered": json = completion(content: "", finish: "content_filter")
            case "malformed": json = completion(content: "Here is your title: Acme Bottle")
            case "noncompliant": json = completion(content: nonCompliantAnswer)
            case "slow":
                try await Task.sleep(for: .seconds(2))
                json = completion(content: compliantAnswer)
            default:
                return Response(status: .internalServerError)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
        }
        return try await LoopbackServer.run(router, label: "stub chat-completions endpoint", body)
    }

}
