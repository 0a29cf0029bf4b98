/// What an onboarding endpoint answers: a redirect to Amazon's consent page, or a page for the seller.
///
/// Kept free of HTTP-framework types so the flow logic reads (and tests) as plain values.
public enum OnboardingReply: Sendable, Equatable {
    /// 302 to Amazon's consent page.
    case redirect(String)
    /// An HTML page with its status code.
    case page(status: Int, Page)

    /// The HTTP status this reply is sent with.
    public var status: Int {
        switch self {
        case .redirect: 302
        case let .page(status, _): status
        }
    }
}

/// A small, self-contained HTML page: a title and paragraphs, every text escaped.
public struct Page: Sendable, Equatable {
    /// The heading (and `<title>`), plain text.
    public var title: String
    /// Plain-text paragraphs, escaped when rendered.
    public var paragraphs: [String]
    /// Whether the page reports success (green) or a refusal (red).
    public var success: Bool

    public init(title: String, paragraphs: [String], success: Bool) {
        self.title = title
        self.paragraphs = paragraphs
        self.success = success
    }

    /// The page as HTML; no scripts, no external resources.
    public var html: String {
        let color = success ? "#1a7f37" : "#b42318"
        let body = paragraphs.map { "<p>\(Self.escape($0))</p>" }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>OptMazon: \(Self.escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}h1{color:\(color)}</style>
            </head><body>
            <h1>\(Self.escape(title))</h1>
            \(body)
            </body></html>

            """
    }

    /// HTML text escaping for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func refused(_ title: String, _ reason: String, advice: String) -> Page {
        Page(title: title, paragraphs: [reason, advice, "Nothing was stored."], success: false)
    }
}
