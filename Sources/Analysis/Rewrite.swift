import Foundation
import Domain

/// What a rewriter gets: the listing's content, the rules it breaks and the keyword gaps to work in.
public struct RewriteRequest: Codable, Hashable, Sendable {
    public var asin: String
    public var sku: String
    public var brand: String
    public var current: ListingContent
    public var context: ListingContext
    /// Keyword gaps, best first.
    public var keywordGaps: [KeywordGap]
    /// Rules the current content breaks, as `ListingValidator.validate` reports them; the score before the
    /// rewrite is computed from these.
    public var violations: [ListingViolation]

    public init(asin: String, sku: String, brand: String, current: ListingContent, context: ListingContext,
                keywordGaps: [KeywordGap], violations: [ListingViolation]) {
        self.asin = asin
        self.sku = sku
        self.brand = brand
        self.current = current
        self.context = context
        self.keywordGaps = keywordGaps
        self.violations = violations
    }
}

/// A proposed rewrite of a listing and how it scores against the content rules.
public struct ListingRewrite: Codable, Hashable, Sendable {
    public var asin: String
    public var sku: String
    /// `rules` for the deterministic rewrite, `ai:MODEL` for an accepted external answer.
    public var source: String
    public var content: ListingContent
    /// Gap keywords the rewrite worked into title or backend terms.
    public var keywordsAdded: [String]
    /// Rules the proposal still breaks (e.g. too few bullets: the rewriter never invents product facts).
    public var remainingViolations: [ListingViolation]
    /// Why an external rewriter's answer was not used, when it was not.
    public var rejectedReason: String?
    public var scoreBefore: Double
    public var scoreAfter: Double

    public init(asin: String, sku: String, source: String, content: ListingContent, keywordsAdded: [String],
                remainingViolations: [ListingViolation], rejectedReason: String?, scoreBefore: Double, scoreAfter: Double) {
        self.asin = asin
        self.sku = sku
        self.source = source
        self.content = content
        self.keywordsAdded = keywordsAdded
        self.remainingViolations = remainingViolations
        self.rejectedReason = rejectedReason
        self.scoreBefore = scoreBefore
        self.scoreAfter = scoreAfter
    }
}

/// Produces a compliant title, bullets and backend terms for a listing.
///
/// Implementations never throw: a failure (timeout, refusal, malformed or non-compliant answer)
/// falls back to the rule-based rewrite with `rejectedReason` saying why.
public protocol ListingRewriter: Sendable {
    /// A proposal for `request`; never fails, a fallback records why in `rejectedReason`.
    func rewrite(_ request: RewriteRequest) async -> ListingRewrite
}

/// Validates candidate rewrites against the content rules of recommendation family 1.
public struct RewriteValidator: Sendable {
    public var validator: ListingValidator

    public init(config: AnalysisConfig = .init()) {
        validator = ListingValidator(config: config)
    }

    /// The reasons `candidate` fails, one line each; empty when it passes every title, bullet and backend rule.
    public func failures(of candidate: ListingContent, for request: RewriteRequest) -> [String] {
        validator.validate(candidate, context: request.context, fields: [.title, .bullets, .backend]).map(\.description)
    }

    /// The rewrite record for `content`, scored before and after (the description is always rule-checked too).
    public func record(_ content: ListingContent, for request: RewriteRequest, source: String, keywordsAdded: [String],
                       rejectedReason: String?) -> ListingRewrite {
        record(content, words: nil, for: request, source: source, keywordsAdded: keywordsAdded, rejectedReason: rejectedReason)
    }

    /// `record` with the words of `content` already cut (nil: cut here if a changed field needs them).
    func record(_ content: ListingContent, words: ContentWords?, for request: RewriteRequest, source: String,
                keywordsAdded: [String], rejectedReason: String?, brands: [[String]]? = nil) -> ListingRewrite {
        let before = validator.score(request.violations).score
        // Only changed fields are checked again; backend checks also depend on title and bullet words.
        let current = request.current
        var changed = Set<ListingField>()
        if content.title != current.title { changed.formUnion([.title, .backend]) }
        if content.bullets != current.bullets { changed.formUnion([.bullets, .backend]) }
        if content.backendKeywords != current.backendKeywords { changed.insert(.backend) }
        if content.description != current.description { changed.insert(.description) }
        let fresh = validator.validate(content, words: words, context: request.context, fields: changed, brands: brands)
        let kept = request.violations.filter { !changed.contains($0.field) }
        let remaining = ListingField.allCases.flatMap { field in (kept + fresh).filter { $0.field == field } }
        return ListingRewrite(asin: request.asin, sku: request.sku, source: source, content: content,
                              keywordsAdded: keywordsAdded, remainingViolations: remaining, rejectedReason: rejectedReason,
                              scoreBefore: before, scoreAfter: validator.score(remaining).score)
    }
}

/// Deterministic rewrite: removes what the rules forbid and packs the keyword gaps into title and backend terms.
///
/// It never invents product facts, so rules it cannot satisfy from the existing text (too few bullets)
/// stay in `remainingViolations`.
public struct RuleBasedRewriter: ListingRewriter {
    public var config: AnalysisConfig

    public init(config: AnalysisConfig = .init()) {
        self.config = config
    }

    public func rewrite(_ request: RewriteRequest) async -> ListingRewrite {
        rewriteNow(request, rejectedReason: nil)
    }

    /// The synchronous rewrite, recording `rejectedReason` when it stands in for a failed external rewriter.
    public func rewriteNow(_ request: RewriteRequest, rejectedReason: String? = nil) -> ListingRewrite {
        rewriteNow(request, rejectedReason: rejectedReason, words: ContentWords(request.current))
    }

    /// `rewriteNow` with the words of `request.current` already cut (the analyzer has them from validating).
    func rewriteNow(_ request: RewriteRequest, rejectedReason: String?, words current: ContentWords) -> ListingRewrite {
        let validator = ListingValidator(config: config)
        var added: [String] = []
        // Fields the request reports clean are kept as written; only broken ones go through the clean-up.
        let broken = Set(request.violations.map(\.field))
        var title = broken.contains(.title) ? cleanTitle(request.current.title, validator: validator) : request.current.title
        // Words and stems of `title` as it stands; nil once it changed and they must be cut again.
        var titleWords: [String]? = broken.contains(.title) ? nil : current.title
        var titleStems: [String]? = broken.contains(.title) ? nil : current.titleStems
        func cutTitle() {
            guard titleWords == nil else { return }
            let words = Text.words(title)
            titleWords = words
            titleStems = words.map(Text.stem)
        }
        // Stems of the title's words. Words of `title + " " + addition` are the title's words then the
        // addition's (a space separates words on every path of `Text.words`), so a fitted addition only adds.
        var present: Set<String>? = nil
        // True while `title` is the current title with additions appended (then its stems include the current ones).
        var titleOnlyGrew = !broken.contains(.title)
        for gap in request.keywordGaps where gap.placement == .title {
            if present == nil {
                cutTitle()
                present = Set(titleStems!)
            }
            let words = gap.missingWords.filter { !present!.contains(Text.stem($0)) }
            guard !words.isEmpty else { continue }
            let addition = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
            if title.count + 1 + addition.count <= config.titleMaxCharacters {
                title += " " + addition
                added += words
                titleWords = nil
                titleStems = nil
                present!.formUnion(Text.words(addition).map(Text.stem))
            }
        }
        let truncated = Text.truncate(title, toCharacters: config.titleMaxCharacters)
        if !Text.sameBytes(truncated, title) {
            title = truncated
            titleWords = nil
            titleStems = nil
            titleOnlyGrew = false
        }
        cutTitle()

        let limit = validator.bulletLimit(productType: request.context.productType)
        let bulletsKept = !broken.contains(.bullets)
        let bullets = bulletsKept ? request.current.bullets : request.current.bullets
            .map { Text.truncate(cleanBullet($0, validator: validator), toCharacters: limit) }
            .filter { !$0.isEmpty }
        let bulletWords = bulletsKept ? current.bullets : bullets.map(Text.words)
        let bulletStems = bulletsKept ? current.bulletStems : bulletWords.map { $0.map(Text.stem) }

        // Stems a shopper sees. With the bullets kept and the title only grown, that is the current ones
        // plus the title's; otherwise they are gathered again.
        var visible: Set<String>
        if bulletsKept, titleOnlyGrew {
            visible = current.visibleStems
            visible.formUnion(titleStems!)
        } else {
            visible = Set(titleStems!)
            for stems in bulletStems { visible.formUnion(stems) }
        }
        let brands = validator.brandPhrases(request.context)
        var candidates: [(word: String, fromGap: Bool)] = []
        for gap in request.keywordGaps where gap.placement != .title {
            candidates += removePhrases(gap.missingWords, brands).map { ($0, true) }
        }
        candidates += removePhrases(current.backend, brands).map { ($0, false) }
        var used = Set<String>()
        var backendWords: [String] = []
        var bytes = 0
        for (word, fromGap) in candidates {
            let stem = Text.stem(word)
            guard !Text.exemptWords.contains(word), !Text.isASIN(word), !ListingValidator.subjectiveWords.contains(word),
                  !visible.contains(stem), !used.contains(stem) else { continue }
            let cost = word.utf8.count + (backendWords.isEmpty ? 0 : 1)
            guard bytes + cost <= config.backendMaxBytes else { continue }
            used.insert(stem)
            backendWords.append(word)
            bytes += cost
            if fromGap { added.append(word) }
        }
        let content = ListingContent(title: title, bullets: bullets, backendKeywords: backendWords.joined(separator: " "),
                                     description: broken.contains(.description) ? cleanDescription(request.current.description) : request.current.description)
        let words = ContentWords(title: titleWords!, titleStems: titleStems!, bullets: bulletWords, bulletStems: bulletStems,
                                 backend: Text.words(content.backendKeywords), visibleStems: visible)
        return RewriteValidator(config: config).record(content, words: words, for: request, source: "rules",
                                                       keywordsAdded: added, rejectedReason: rejectedReason, brands: brands)
    }

    private func removePhrases(_ words: [String], _ phrases: [[String]]) -> [String] {
        var out = words
        for phrase in phrases where !phrase.isEmpty {
            var i = 0
            while i + phrase.count <= out.count {
                if Array(out[i..<(i + phrase.count)]) == phrase { out.removeSubrange(i..<(i + phrase.count)) } else { i += 1 }
            }
        }
        return out
    }

    /// Title tokens that start a promotional mark.
    static let promotionalTokens = ["100%", "#1"]

    func cleanTitle(_ title: String, validator: ListingValidator) -> String {
        let banned = Set(config.titleBannedCharacters.unicodeScalars)
        var tokens = Text.whitespaceTokens(title).map { token in
            guard token.unicodeScalars.contains(where: banned.contains) else { return String(token) }
            var kept = String.UnicodeScalarView()
            kept.append(contentsOf: token.unicodeScalars.filter { !banned.contains($0) })
            return String(kept)
        }
        tokens = tokens.filter { t in
            guard !t.isEmpty else { return false }
            guard t.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "#") }) else { return true }
            let lower = t.lowercased()
            return !Self.promotionalTokens.contains { lower.hasPrefix($0) }
        }
        let kept = Self.removeRunsKeepingWords(ListingValidator.promotionalPhrases,
                                               firstWords: ListingValidator.promotionalFirstWords, from: tokens)
        var counts: [String: Int] = [:]
        tokens = []
        for (token, tokenWords) in zip(kept.tokens, kept.words) {
            let words = tokenWords.filter { !Text.exemptWords.contains($0) }
            if words.contains(where: { counts[$0, default: 0] >= config.titleMaxWordRepeats }) { continue }
            for w in words { counts[w, default: 0] += 1 }
            tokens.append(token)
        }
        let caps = ListingValidator.capitalizedWords(tokens.joined(separator: " "))
        if caps.shouting >= 4, caps.shouting * 2 >= caps.lettered {
            tokens = tokens.map { t in
                guard t.filter(\.isLetter).count > 3, t.allSatisfy({ !$0.isLetter || $0.isUppercase }) else { return t }
                return t.prefix(1) + t.dropFirst().lowercased()
            }
        }
        return tokens.joined(separator: " ").trimmingTrailing()
    }

    /// Claims and placeholders a bullet clean-up removes, and their first words.
    static let bulletPhrases = ListingValidator.bannedClaims + ListingValidator.placeholderPhrases
    static let bulletPhraseFirstWords = Set(bulletPhrases.compactMap(\.first))

    func cleanBullet(_ bullet: String, validator: ListingValidator) -> String {
        let phrases = Self.bulletPhrases
        let words = Text.words(bullet)
        // Most bullets break nothing: keep them as written.
        if validator.bannedSymbols(in: bullet).isEmpty, !words.contains(where: Text.isASIN),
           !words.contains(where: Self.bulletPhraseFirstWords.contains) || !phrases.contains(where: { Text.contains(words, phrase: $0) }) {
            return Text.squeeze(bullet)
        }
        var tokens: [String] = []
        for raw in Text.whitespaceTokens(bullet) {
            let kept = String(raw.filter { !ListingValidator.isBannedSymbol($0) })
            guard !kept.isEmpty, !Text.words(kept).contains(where: Text.isASIN) else { continue }
            tokens.append(kept)
        }
        return Self.removeRunsKeepingWords(phrases, firstWords: Self.bulletPhraseFirstWords, from: tokens).tokens
            .joined(separator: " ").trimmingTrailing()
    }

    /// `tokens` without the runs whose normalized words equal one of `phrases`, with the words of each
    /// token kept. `firstWords` holds every phrase's first word: no token normalizing to one of them
    /// means no run to remove, without scanning per phrase.
    static func removeRunsKeepingWords(_ phrases: [[String]], firstWords: Set<String>,
                                       from tokens: [String]) -> (tokens: [String], words: [[String]]) {
        var tokens = tokens
        var words = tokens.map(Text.words)
        var normalized = words.map { $0.joined(separator: " ") }
        guard normalized.contains(where: firstWords.contains) else { return (tokens, words) }
        for phrase in phrases where !phrase.isEmpty {
            var i = 0
            while i + phrase.count <= tokens.count {
                if normalized[i] == phrase[0], Array(normalized[i..<(i + phrase.count)]) == phrase {
                    tokens.removeSubrange(i..<(i + phrase.count))
                    words.removeSubrange(i..<(i + phrase.count))
                    normalized.removeSubrange(i..<(i + phrase.count))
                } else {
                    i += 1
                }
            }
        }
        return (tokens, words)
    }

    /// `description` without HTML other than `<br>` and without contact details, cut to the limit.
    public func cleanDescription(_ description: String) -> String {
        // Drop every tag except <br>.
        var text = ""
        var i = description.startIndex
        while i < description.endIndex {
            if description[i] == "<", let close = description[i...].firstIndex(of: ">") {
                let tag = description[i...close]
                let name = Text.words(String(tag)).first ?? ""
                if name == "br" { text += "<br>" } else { text += " " }
                i = description.index(after: close)
            } else {
                text.append(description[i])
                i = description.index(after: i)
            }
        }
        let kinds = ListingValidator.contactDetails(in: text)
        if !kinds.isEmpty {
            let tokens = text.split(separator: " ", omittingEmptySubsequences: false).filter { t in
                let l = t.lowercased()
                if l.contains("@") || l.contains("http") || l.contains("www.") { return false }
                if ListingValidator.domainEndings.contains(where: { l.hasSuffix($0) || l.contains($0 + "/") }) { return false }
                if kinds.contains("phone number"), t.contains(where: \.isNumber),
                   t.allSatisfy({ $0.isNumber || "-().+".contains($0) }) { return false }
                return true
            }
            text = tokens.joined(separator: " ")
        }
        return Text.truncate(Text.squeeze(text), toCharacters: config.descriptionMaxCharacters)
    }
}
