import Foundation
import Domain

/// The editable content of a listing: what the rules check and what a rewrite replaces.
public struct ListingContent: Codable, Hashable, Sendable {
    public var title: String
    public var bullets: [String]
    /// Backend search terms (`generic_keyword`).
    public var backendKeywords: String
    public var description: String

    public init(title: String, bullets: [String], backendKeywords: String, description: String = "") {
        self.title = title
        self.bullets = bullets
        self.backendKeywords = backendKeywords
        self.description = description
    }

    /// The content of a listing snapshot.
    public init(_ listing: ListingSnapshot) {
        self.init(title: listing.title, bullets: listing.bullets, backendKeywords: listing.backendKeywords,
                  description: listing.description)
    }
}

/// The parts of a listing the validator can check.
public enum ListingField: String, Codable, Sendable, CaseIterable, Comparable {
    case title, bullets, backend, description

    /// Points each part contributes to the 100-point quality score.
    public var weight: Double {
        switch self {
        case .title: return 30
        case .bullets: return 25
        case .backend: return 25
        case .description: return 20
        }
    }

    public static func < (lhs: ListingField, rhs: ListingField) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What the content rules need besides the text: brand names to keep out of backend terms, the product type.
public struct ListingContext: Codable, Hashable, Sendable {
    /// The seller's own brands (any listing's `brand`), lowercased matching is done by the validator.
    public var ownBrands: [String]
    /// Competitor brands to keep out of backend terms.
    public var competitorBrands: [String]
    public var productType: String

    public init(ownBrands: [String] = [], competitorBrands: [String] = [], productType: String = "") {
        self.ownBrands = ownBrands
        self.competitorBrands = competitorBrands
        self.productType = productType
    }
}

/// The words of a listing's title, bullets and backend terms with their stems, cut once per content and
/// shared by the validator, the keyword-gap matching and the rewriter: each used to tokenize the same text
/// again, several times per listing, which was a visible share of analyzing 2,000 listings.
struct ContentWords {
    var title: [String]
    var titleStems: [String]
    var bullets: [[String]]
    var bulletStems: [[String]]
    var backend: [String]
    var backendStems: [String]
    /// Stems of the title and bullet words: what a shopper sees on the page.
    var visibleStems: Set<String>

    init(_ content: ListingContent) {
        self.init(title: Text.words(content.title), bullets: content.bullets.map(Text.words),
                  backend: Text.words(content.backendKeywords))
    }

    init(title: [String], bullets: [[String]], backend: [String]) {
        let titleStems = title.map(Text.stem)
        let bulletStems = bullets.map { $0.map(Text.stem) }
        var visible = Set(titleStems)
        for stems in bulletStems { visible.formUnion(stems) }
        self.init(title: title, titleStems: titleStems, bullets: bullets, bulletStems: bulletStems, backend: backend,
                  visibleStems: visible)
    }

    /// Words whose title and bullet stems are already known (the rewriter has them at hand).
    init(title: [String], titleStems: [String], bullets: [[String]], bulletStems: [[String]], backend: [String],
         visibleStems: Set<String>) {
        self.title = title
        self.titleStems = titleStems
        self.bullets = bullets
        self.bulletStems = bulletStems
        self.backend = backend
        self.backendStems = backend.map(Text.stem)
        self.visibleStems = visibleStems
    }

    /// Stems of every word in title, bullets and backend terms.
    var allStems: Set<String> { visibleStems.union(backendStems) }
}

/// One broken content rule, with the numbers that show it and the fix.
public struct ListingViolation: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Stable rule id, e.g. `listing.title.length`.
    public var ruleID: String
    public var field: ListingField
    /// Where inside the field: `title`, `bullet 3`, `backend`, `description`.
    public var location: String
    public var severity: Severity
    /// One line saying what is wrong.
    public var message: String
    /// What to do about it.
    public var fix: String
    public var evidence: [Evidence]

    public init(ruleID: String, field: ListingField, location: String, severity: Severity, message: String,
                fix: String, evidence: [Evidence]) {
        self.ruleID = ruleID
        self.field = field
        self.location = location
        self.severity = severity
        self.message = message
        self.fix = fix
        self.evidence = evidence
    }

    /// `rule id (location): message`.
    public var description: String { "\(ruleID) (\(location)): \(message)" }
}

/// Checks listing content against Amazon's title, bullet, backend-term and description rules (§2.1).
///
/// The analyzer, the rule-based rewriter and the AI rewrite validation all use this one validator, so a
/// rewrite is accepted only if it passes the same rules the listing is scored against.
public struct ListingValidator: Sendable {
    public var config: AnalysisConfig

    /// Promotional phrases banned in titles (§2.1 [1][5]), as lowercased word runs.
    static let promotionalPhrases: [[String]] = [
        "free shipping", "free delivery", "quality guaranteed", "satisfaction guaranteed", "best seller",
        "bestseller", "best selling", "hot sale", "hot item", "on sale", "sale price", "limited time",
        "buy now", "money back", "top rated", "great deal", "cheapest", "lowest price", "special offer",
    ].map { Text.words($0) }
    /// Promotional marks matched on the raw lowercased text (they are symbols, not words).
    static let promotionalMarks = ["100%", "#1 ", "#1,", "no. 1"]
    /// `promotionalMarks` as UTF-8 bytes, in the same order.
    static let promotionalMarkBytes: [[UInt8]] = promotionalMarks.map { Array($0.utf8) }
    /// Symbols banned in bullets since 2024-08-15 (§2.1 [7][8]); emojis are checked separately.
    static let bulletBannedSymbols: Set<Character> = ["™", "®", "€", "…", "†", "‡", "¢", "£", "¥", "©", "±", "~"]
    /// Placeholder text banned in bullets (§2.1 [7][8]).
    static let placeholders = ["n/a", "tbd", "copy pending", "not applicable"]
    /// `placeholders` as lowercased word runs, in the same order.
    static let placeholderPhrases: [[String]] = placeholders.map { Text.words($0) }
    /// Refund/guarantee and restricted claims banned in bullets (§2.1 [7][8]).
    static let bannedClaims: [[String]] = [
        "money back", "refund", "refunds", "guarantee", "guaranteed", "eco friendly", "environmentally friendly",
        "antimicrobial", "antibacterial", "anti bacterial", "antiviral", "anti viral", "made from bamboo",
        "bamboo based", "biodegradable", "compostable", "non toxic", "nontoxic", "fda approved",
    ].map { Text.words($0) }
    /// First words of the title and bullet phrase lists: text without any of them matches no phrase, which
    /// settles most texts with a few set lookups instead of a scan per phrase.
    static let promotionalFirstWords = Set(promotionalPhrases.compactMap(\.first))
    static let placeholderFirstWords = Set(placeholderPhrases.compactMap(\.first))
    static let bannedClaimFirstWords = Set(bannedClaims.compactMap(\.first))
    /// Subjective and temporary words prohibited in backend terms (§2.1 [14][18]).
    static let subjectiveWords: Set<String> = [
        "best", "cheapest", "cheap", "amazing", "awesome", "great", "perfect", "top", "greatest", "incredible",
        "fantastic", "new", "newest", "latest", "sale", "now", "today", "limited", "hot", "discount", "bestseller",
    ]

    public init(config: AnalysisConfig = .init()) {
        self.config = config
    }

    /// Every rule `content` breaks in `fields`, in field order then rule order.
    public func validate(_ content: ListingContent, context: ListingContext,
                         fields: Set<ListingField> = Set(ListingField.allCases)) -> [ListingViolation] {
        validate(content, words: nil, context: context, fields: fields)
    }

    /// `validate` with the content's words already cut (nil: cut them here if a checked field needs them).
    /// `brands`, when given, are `brandPhrases(context)` worked out once by the caller.
    func validate(_ content: ListingContent, words: ContentWords?, context: ListingContext,
                  fields: Set<ListingField> = Set(ListingField.allCases), brands: [[String]]? = nil) -> [ListingViolation] {
        var out: [ListingViolation] = []
        guard fields.contains(.title) || fields.contains(.bullets) || fields.contains(.backend) else {
            if fields.contains(.description) { out += checkDescription(content.description) }
            return out
        }
        let words = words ?? ContentWords(content)
        if fields.contains(.title) { out += checkTitle(content.title, words: words.title) }
        if fields.contains(.bullets) { out += checkBullets(content.bullets, words: words.bullets, productType: context.productType) }
        if fields.contains(.backend) { out += checkBackend(content, words: words, context: context, brands: brands) }
        if fields.contains(.description) { out += checkDescription(content.description) }
        return out
    }

    /// The 0–100 score and its breakdown: each field earns its weight minus a penalty per broken rule
    /// (critical: all of it, high 15, medium 8, low 3), never below zero.
    public func score(_ violations: [ListingViolation]) -> (score: Double, components: [ScoreComponent]) {
        var components: [ScoreComponent] = []
        for field in ListingField.allCases {
            let mine = violations.filter { $0.field == field }
            let penalty = mine.reduce(0.0) { sum, v in
                switch v.severity {
                case .critical: return sum + field.weight
                case .high: return sum + 15
                case .medium: return sum + 8
                case .low: return sum + 3
                case .info: return sum
                }
            }
            var seen = Set<String>()
            let rules = mine.map(\.ruleID).filter { seen.insert($0).inserted }
            components.append(ScoreComponent(name: field.rawValue, weight: field.weight,
                                             points: max(0, field.weight - penalty), failedRules: rules))
        }
        return (components.reduce(0) { $0 + $1.points }, components)
    }

    // MARK: Title

    /// Title rules; `words` are `Text.words(title)`.
    func checkTitle(_ title: String, words: [String]) -> [ListingViolation] {
        var out: [ListingViolation] = []
        guard !Text.isBlank(title) else {
            return [ListingViolation(ruleID: "listing.title.missing", field: .title, location: "title", severity: .critical,
                                     message: "the title is empty", fix: "write a title: brand, product, key attributes",
                                     evidence: [Evidence("characters", "0")])]
        }
        let length = title.count
        if length > config.titleMaxCharacters {
            out.append(ListingViolation(
                ruleID: "listing.title.length", field: .title, location: "title", severity: .high,
                message: "title has \(length) characters, over the \(config.titleMaxCharacters)-character limit",
                fix: "shorten the title by at least \(length - config.titleMaxCharacters) characters",
                evidence: [Evidence("characters", String(length)), Evidence("limit", String(config.titleMaxCharacters))]))
        }
        // Every banned character is a single Unicode scalar, so scalars (cheap) stand in for Characters;
        // in an ASCII title they are its bytes, checked against a bitmap of the ASCII banned characters.
        var found: [Unicode.Scalar] = []
        if Text.isASCII(title) {
            var bannedASCII: (low: UInt64, high: UInt64) = (0, 0)
            for u in config.titleBannedCharacters.unicodeScalars where u.value < 0x80 {
                if u.value < 64 { bannedASCII.low |= 1 << UInt64(u.value) } else { bannedASCII.high |= 1 << UInt64(u.value - 64) }
            }
            for b in title.utf8 {
                let isBanned = b < 64 ? bannedASCII.low & (1 << UInt64(b)) != 0 : bannedASCII.high & (1 << UInt64(b - 64)) != 0
                if isBanned, !found.contains(Unicode.Scalar(b)) { found.append(Unicode.Scalar(b)) }
            }
        } else {
            let banned = Set(config.titleBannedCharacters.unicodeScalars)
            for u in title.unicodeScalars where banned.contains(u) && !found.contains(u) { found.append(u) }
        }
        if !found.isEmpty {
            let list = found.map { String($0) }.joined(separator: " ")
            out.append(ListingViolation(
                ruleID: "listing.title.banned_chars", field: .title, location: "title", severity: .high,
                message: "title contains characters Amazon bans in titles: \(list)",
                fix: "remove \(list) from the title",
                evidence: [Evidence("banned characters", list)]))
        }
        var counts: [String: Int] = [:]
        counts.reserveCapacity(words.count)
        var order: [String] = []
        for word in words where !Text.exemptWords.contains(word) {
            if let known = counts.index(forKey: word) {
                counts.values[known] += 1
            } else {
                counts[word] = 1
                order.append(word)
            }
        }
        let repeated = order.filter { counts[$0]! > config.titleMaxWordRepeats }
        if !repeated.isEmpty {
            let list = repeated.map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ")
            out.append(ListingViolation(
                ruleID: "listing.title.repeated_words", field: .title, location: "title", severity: .high,
                message: "title repeats words more than \(config.titleMaxWordRepeats) times: \(list)",
                fix: "keep each of \(repeated.joined(separator: ", ")) at most \(config.titleMaxWordRepeats) times",
                evidence: [Evidence("repeated words", list), Evidence("limit per word", String(config.titleMaxWordRepeats))]))
        }
        let promos = promotional(in: title, words: words)
        if !promos.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.title.promotional", field: .title, location: "title", severity: .high,
                message: "title contains promotional phrases: \(promos.joined(separator: ", "))",
                fix: "remove \(promos.joined(separator: ", ")) from the title",
                evidence: [Evidence("phrases", promos.joined(separator: ", "))]))
        }
        let (shouting, lettered) = Self.capitalizedWords(title)
        if shouting >= 4, shouting * 2 >= lettered {
            out.append(ListingViolation(
                ruleID: "listing.title.all_caps", field: .title, location: "title", severity: .low,
                message: "\(shouting) of \(lettered) title words are in capitals",
                fix: "capitalize the first letter of each word only",
                evidence: [Evidence("capitalized words", String(shouting)), Evidence("words", String(lettered))]))
        }
        return out
    }

    /// Words of `text` (space-separated) with two or more letters, and how many of them have no lowercase letter.
    static func capitalizedWords(_ text: String) -> (shouting: Int, lettered: Int) {
        var shouting = 0, lettered = 0
        // ASCII text: words are the runs between space bytes (splitting Characters was most of the cost).
        if Text.isASCII(text) {
            var letters = 0, lower = 0
            func endWord() {
                if letters >= 2 {
                    lettered += 1
                    if lower == 0 { shouting += 1 }
                }
                letters = 0
                lower = 0
            }
            for b in text.utf8 {
                if b == 0x20 {
                    endWord()
                } else if b >= 0x61 && b <= 0x7A {
                    letters += 1
                    lower += 1
                } else if b >= 0x41 && b <= 0x5A {
                    letters += 1
                }
            }
            endWord()
            return (shouting, lettered)
        }
        for word in text.split(separator: " ") {
            var letters = 0, lower = 0
            if word.utf8.allSatisfy({ $0 < 0x80 }) {
                for b in word.utf8 {
                    if b >= 0x61 && b <= 0x7A { letters += 1; lower += 1 } else if b >= 0x41 && b <= 0x5A { letters += 1 }
                }
            } else {
                for ch in word where ch.isLetter {
                    letters += 1
                    if !ch.isUppercase { lower += 1 }
                }
            }
            if letters >= 2 {
                lettered += 1
                if lower == 0 { shouting += 1 }
            }
        }
        return (shouting, lettered)
    }

    func promotional(in text: String, words: [String]) -> [String] {
        var found: [String] = []
        if words.contains(where: Self.promotionalFirstWords.contains) {
            for phrase in Self.promotionalPhrases where Text.contains(words, phrase: phrase) {
                found.append(phrase.joined(separator: " "))
            }
        }
        // Every mark holds "%", "#" or ".": ASCII text with none of them (lowercasing ASCII adds none) has no mark.
        func mayHoldMark(_ bytes: some Sequence<UInt8>) -> Bool {
            bytes.contains { $0 >= 0x80 || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ".") }
        }
        guard text.utf8.withContiguousStorageIfAvailable(mayHoldMark) ?? mayHoldMark(text.utf8) else { return found }
        let lower = Array((text.lowercased() + " ").utf8)
        for (mark, bytes) in zip(Self.promotionalMarks, Self.promotionalMarkBytes) where Text.contains(lower[...], bytes) {
            found.append(mark.trimmingCharacters(in: CharacterSet(charactersIn: " ,")))
        }
        return found
    }

    // MARK: Bullets

    func bulletLimit(productType: String) -> Int {
        config.bulletMaxCharactersByProductType[productType] ?? config.bulletMaxCharacters
    }

    /// Bullet rules; `bulletWords[i]` are `Text.words(bullets[i])`.
    func checkBullets(_ bullets: [String], words bulletWords: [[String]], productType: String) -> [ListingViolation] {
        var out: [ListingViolation] = []
        let blank = bullets.map(Text.isBlank)
        let filled = blank.filter { !$0 }.count
        if filled < config.bulletsExpected {
            out.append(ListingViolation(
                ruleID: "listing.bullets.count", field: .bullets, location: "bullets", severity: .medium,
                message: "\(filled) bullets, sellers get \(config.bulletsExpected)",
                fix: "add \(config.bulletsExpected - filled) bullets with benefits and specifications",
                evidence: [Evidence("bullets", String(filled)), Evidence("expected", String(config.bulletsExpected))]))
        } else if filled > config.bulletsMax {
            out.append(ListingViolation(
                ruleID: "listing.bullets.count", field: .bullets, location: "bullets", severity: .medium,
                message: "\(filled) bullets, the most Amazon shows is \(config.bulletsMax)",
                fix: "merge or drop \(filled - config.bulletsMax) bullets",
                evidence: [Evidence("bullets", String(filled)), Evidence("limit", String(config.bulletsMax))]))
        }
        let limit = bulletLimit(productType: productType)
        for (index, bullet) in bullets.enumerated() {
            let location = "bullet \(index + 1)"
            if blank[index] {
                out.append(ListingViolation(
                    ruleID: "listing.bullets.empty", field: .bullets, location: location, severity: .low,
                    message: "\(location) is empty", fix: "fill or remove \(location)",
                    evidence: [Evidence("characters", "0")]))
                continue
            }
            if bullet.count > limit {
                out.append(ListingViolation(
                    ruleID: "listing.bullets.length", field: .bullets, location: location, severity: .medium,
                    message: "\(location) has \(bullet.count) characters, over the \(limit)-character limit",
                    fix: "shorten \(location) by at least \(bullet.count - limit) characters",
                    evidence: [Evidence("characters", String(bullet.count)), Evidence("limit", String(limit))]))
            }
            let symbols = bannedSymbols(in: bullet)
            if !symbols.isEmpty {
                out.append(ListingViolation(
                    ruleID: "listing.bullets.banned_symbols", field: .bullets, location: location, severity: .high,
                    message: "\(location) contains symbols or emojis banned since 2024-08-15: \(symbols)",
                    fix: "remove \(symbols) from \(location)", evidence: [Evidence("symbols", symbols)]))
            }
            let words = bulletWords[index]
            let asins = words.filter(Text.isASIN)
            if !asins.isEmpty {
                let list = asins.map { $0.uppercased() }.joined(separator: ", ")
                out.append(ListingViolation(
                    ruleID: "listing.bullets.asin", field: .bullets, location: location, severity: .high,
                    message: "\(location) mentions ASINs: \(list)", fix: "remove ASINs from \(location)",
                    evidence: [Evidence("ASINs", list)]))
            }
            let holders = !words.contains(where: Self.placeholderFirstWords.contains) ? []
                : zip(Self.placeholders, Self.placeholderPhrases).filter { Text.contains(words, phrase: $0.1) }.map(\.0)
            if !holders.isEmpty {
                out.append(ListingViolation(
                    ruleID: "listing.bullets.placeholder", field: .bullets, location: location, severity: .high,
                    message: "\(location) contains placeholder text: \(holders.joined(separator: ", "))",
                    fix: "replace the placeholder with real product information",
                    evidence: [Evidence("placeholders", holders.joined(separator: ", "))]))
            }
            let claims = !words.contains(where: Self.bannedClaimFirstWords.contains) ? []
                : Self.bannedClaims.filter { Text.contains(words, phrase: $0) }.map { $0.joined(separator: " ") }
            if !claims.isEmpty {
                out.append(ListingViolation(
                    ruleID: "listing.bullets.claims", field: .bullets, location: location, severity: .high,
                    message: "\(location) makes guarantee or restricted claims: \(claims.joined(separator: ", "))",
                    fix: "remove the claims \(claims.joined(separator: ", ")) from \(location)",
                    evidence: [Evidence("claims", claims.joined(separator: ", "))]))
            }
        }
        return out
    }

    /// Banned symbols and emojis found in `text`, in order of appearance, without repeats.
    func bannedSymbols(in text: String) -> String {
        // ASCII text can only hold '~'; skip the per-character Unicode property lookups for it.
        if Text.isASCII(text) { return Text.containsByte(text, UInt8(ascii: "~")) ? "~" : "" }
        var found: [String] = []
        for ch in text where Self.isBannedSymbol(ch) {
            let s = String(ch)
            if !found.contains(s) { found.append(s) }
        }
        return found.joined(separator: " ")
    }

    /// A symbol banned in bullets or an emoji (§2.1 [7][8]).
    static func isBannedSymbol(_ ch: Character) -> Bool {
        if ch.isASCII { return ch == "~" }
        if bulletBannedSymbols.contains(ch) { return true }
        return ch.unicodeScalars.contains { s in
            s.properties.isEmojiPresentation || (s.properties.isEmoji && s.value >= 0x2190 && !s.isASCII)
        }
    }

    // MARK: Backend search terms

    func brandPhrases(_ context: ListingContext) -> [[String]] {
        var phrases: [[String]] = []
        for brand in context.ownBrands + context.competitorBrands {
            let words = Text.words(brand)
            if !words.isEmpty, !phrases.contains(words) { phrases.append(words) }
        }
        return phrases
    }

    /// Backend term rules; they also read the title and bullet words in `contentWords`.
    func checkBackend(_ content: ListingContent, words contentWords: ContentWords, context: ListingContext,
                      brands knownBrands: [[String]]? = nil) -> [ListingViolation] {
        var out: [ListingViolation] = []
        let backend = content.backendKeywords
        let words = contentWords.backend
        let stems = contentWords.backendStems
        guard !words.isEmpty else {
            return [ListingViolation(
                ruleID: "listing.backend.empty", field: .backend, location: "backend", severity: .low,
                message: "backend search terms are empty: \(config.backendMaxBytes) bytes of indexing unused",
                fix: "add synonyms, spelling variants and uses not in the title or bullets",
                evidence: [Evidence("bytes", "0"), Evidence("limit bytes", String(config.backendMaxBytes))])]
        }
        let bytes = backend.utf8.count
        if bytes > config.backendMaxBytes {
            let multibyte = backend.unicodeScalars.filter { !$0.isASCII }.count
            out.append(ListingViolation(
                ruleID: "listing.backend.bytes", field: .backend, location: "backend", severity: .high,
                message: "backend terms are \(bytes) bytes (\(backend.count) characters), over the \(config.backendMaxBytes)-byte limit",
                fix: "cut at least \(bytes - config.backendMaxBytes) bytes; Amazon ignores everything past byte \(config.backendMaxBytes)",
                evidence: [Evidence("bytes", String(bytes)), Evidence("characters", String(backend.count)),
                           Evidence("multibyte characters", String(multibyte)),
                           Evidence("limit bytes", String(config.backendMaxBytes))]))
        }
        var asins: [String] = []
        for w in words where Text.isASIN(w) && !asins.contains(w) { asins.append(w) }
        if !asins.isEmpty {
            let list = asins.map { $0.uppercased() }.joined(separator: ", ")
            out.append(ListingViolation(
                ruleID: "listing.backend.asin", field: .backend, location: "backend", severity: .high,
                message: "backend terms contain ASINs: \(list)", fix: "remove \(list)",
                evidence: [Evidence("ASINs", list)]))
        }
        let brands = (knownBrands ?? brandPhrases(context)).filter { Text.contains(words, phrase: $0) }.map { $0.joined(separator: " ") }
        if !brands.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.backend.brand", field: .backend, location: "backend", severity: .high,
                message: "backend terms contain brand names: \(brands.joined(separator: ", "))",
                fix: "remove brand names (own or others) from backend terms",
                evidence: [Evidence("brands", brands.joined(separator: ", "))]))
        }
        var subjective: [String] = []
        for w in words where Self.subjectiveWords.contains(w) && !subjective.contains(w) { subjective.append(w) }
        if !subjective.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.backend.subjective", field: .backend, location: "backend", severity: .high,
                message: "backend terms contain subjective or temporary words: \(subjective.joined(separator: ", "))",
                fix: "remove \(subjective.joined(separator: ", "))",
                evidence: [Evidence("words", subjective.joined(separator: ", "))]))
        }
        var seen = Set<String>()
        var repeats: [String] = []
        for (w, s) in zip(words, stems) where !Text.exemptWords.contains(w) {
            if !seen.insert(s).inserted, !repeats.contains(w) { repeats.append(w) }
        }
        if !repeats.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.backend.repeats", field: .backend, location: "backend", severity: .low,
                message: "backend terms repeat words (singular and plural count as one): \(repeats.joined(separator: ", "))",
                fix: "keep each word once", evidence: [Evidence("repeated", repeats.joined(separator: ", "))]))
        }
        let visible = contentWords.visibleStems
        var duplicated: [String] = []
        for (w, s) in zip(words, stems) where !Text.exemptWords.contains(w) && visible.contains(s) && !duplicated.contains(w) {
            duplicated.append(w)
        }
        if !duplicated.isEmpty {
            let wasted = duplicated.reduce(0) { $0 + $1.utf8.count + 1 }
            out.append(ListingViolation(
                ruleID: "listing.backend.duplicates_content", field: .backend, location: "backend", severity: .medium,
                message: "\(duplicated.count) backend words are already in the title or bullets: \(duplicated.joined(separator: ", "))",
                fix: "drop them and use the \(wasted) bytes for synonyms or missing search terms",
                evidence: [Evidence("words", duplicated.joined(separator: ", ")), Evidence("bytes freed", String(wasted))]))
        }
        var stops: [String] = []
        for w in words where Text.exemptWords.contains(w) && !stops.contains(w) { stops.append(w) }
        if !stops.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.backend.stop_words", field: .backend, location: "backend", severity: .low,
                message: "backend terms spend bytes on stop words: \(stops.joined(separator: ", "))",
                fix: "remove \(stops.joined(separator: ", "))", evidence: [Evidence("stop words", stops.joined(separator: ", "))]))
        }
        // In ASCII text each comma or semicolon byte is one Character; other text counts Characters.
        let punctuation = Text.isASCII(backend)
            ? backend.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ",") || $1 == UInt8(ascii: ";") ? 1 : 0) }
            : backend.filter { $0 == "," || $0 == ";" }.count
        if punctuation > 0 {
            out.append(ListingViolation(
                ruleID: "listing.backend.punctuation", field: .backend, location: "backend", severity: .low,
                message: "backend terms contain \(punctuation) commas or semicolons, which are not needed",
                fix: "separate terms with single spaces", evidence: [Evidence("commas and semicolons", String(punctuation))]))
        }
        return out
    }

    // MARK: Description

    func checkDescription(_ description: String) -> [ListingViolation] {
        var out: [ListingViolation] = []
        guard !Text.isBlank(description) else {
            return [ListingViolation(
                ruleID: "listing.description.missing", field: .description, location: "description", severity: .low,
                message: "the description is empty; it is indexed even under A+ Content",
                fix: "write a description of up to \(config.descriptionMaxCharacters) characters",
                evidence: [Evidence("characters", "0")])]
        }
        if description.count > config.descriptionMaxCharacters {
            out.append(ListingViolation(
                ruleID: "listing.description.length", field: .description, location: "description", severity: .medium,
                message: "description has \(description.count) characters, over the \(config.descriptionMaxCharacters)-character limit",
                fix: "shorten the description by at least \(description.count - config.descriptionMaxCharacters) characters",
                evidence: [Evidence("characters", String(description.count)),
                           Evidence("limit", String(config.descriptionMaxCharacters))]))
        }
        let tags = Self.htmlTags(in: description).filter { $0 != "br" }
        if !tags.isEmpty {
            var unique: [String] = []
            for t in tags where !unique.contains(t) { unique.append(t) }
            out.append(ListingViolation(
                ruleID: "listing.description.html", field: .description, location: "description", severity: .medium,
                message: "description uses HTML other than <br>: \(unique.map { "<\($0)>" }.joined(separator: " "))",
                fix: "remove the tags; only <br> line breaks are allowed",
                evidence: [Evidence("tags", unique.joined(separator: ", ")), Evidence("tag count", String(tags.count))]))
        }
        let contacts = Self.contactDetails(in: description)
        if !contacts.isEmpty {
            out.append(ListingViolation(
                ruleID: "listing.description.contact", field: .description, location: "description", severity: .high,
                message: "description contains contact details: \(contacts.joined(separator: ", "))",
                fix: "remove e-mail addresses, web addresses and phone numbers",
                evidence: [Evidence("kinds", contacts.joined(separator: ", "))]))
        }
        return out
    }

    /// Lowercased names of the HTML tags in `text`, in order (`<br/>` and `</p>` give `br` and `p`).
    static func htmlTags(in text: String) -> [String] {
        // A tag starts at "<": text without that byte has none, and needs no Character array.
        guard Text.containsByte(text, UInt8(ascii: "<")) else { return [] }
        var tags: [String] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "<" {
                var j = i + 1
                if j < chars.count, chars[j] == "/" { j += 1 }
                var name = ""
                while j < chars.count, chars[j].isLetter || (chars[j].isNumber && !name.isEmpty) {
                    name.append(chars[j])
                    j += 1
                }
                if !name.isEmpty, let close = chars[j...].firstIndex(of: ">"),
                   !chars[j..<close].contains("<") {
                    tags.append(name.lowercased())
                    i = close
                }
            }
            i += 1
        }
        return tags
    }

    /// Web address endings that mark a domain name.
    static let domainEndings = [".com", ".net", ".org", ".co.uk", ".de", ".io", ".shop", ".store"]
    /// `domainEndings` as UTF-8 bytes, and each followed by "/", in the same order.
    static let domainEndingBytes: [[UInt8]] = domainEndings.map { Array($0.utf8) }
    static let domainPathBytes: [[UInt8]] = domainEndings.map { Array(($0 + "/").utf8) }

    /// Which kinds of contact detail `text` contains: `e-mail`, `web address`, `phone number`.
    static func contactDetails(in text: String) -> [String] {
        var kinds: [String] = []
        let lower = Array(text.lowercased().utf8)
        let tokens = lower.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        if tokens.contains(where: { t in
            guard let at = t.firstIndex(of: UInt8(ascii: "@")), at != t.startIndex else { return false }
            return t[at...].contains(UInt8(ascii: "."))
        }) { kinds.append("e-mail") }
        if Text.contains(lower, "http://") || Text.contains(lower, "https://") || Text.contains(lower, "www.")
            || tokens.contains(where: { token in
                // Every ending starts with ".": a token without one cannot match (and most tokens have none).
                guard token.contains(UInt8(ascii: ".")), !token.contains(UInt8(ascii: "@")) else { return false }
                for (e, path) in zip(domainEndingBytes, domainPathBytes) {
                    if token.count >= e.count && token.suffix(e.count).elementsEqual(e) || Text.contains(token, path) { return true }
                }
                return false
            }) {
            kinds.append("web address")
        }
        var digits = 0
        var longest = 0
        for b in lower {
            if b >= 0x30, b <= 0x39 {
                digits += 1
                longest = max(longest, digits)
            } else if !(b == 0x20 || b == UInt8(ascii: "-") || b == UInt8(ascii: "(") || b == UInt8(ascii: ")")
                        || b == UInt8(ascii: ".") || b == UInt8(ascii: "+")) {
                digits = 0
            }
        }
        if longest >= 10 { kinds.append("phone number") }
        return kinds
    }
}
