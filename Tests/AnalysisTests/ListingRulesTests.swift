import Analysis
import Domain
import Testing

@Suite("Listing content rules (family 1)")
struct ListingRulesTests {
    let validator = ListingValidator()
    let context = ListingContext(ownBrands: ["Acme"], competitorBrands: ["Hydro Peak"], productType: "BOTTLE")

    func content(title: String = SellerFixture.cleanTitle, bullets: [String] = SellerFixture.cleanBullets,
                 backend: String = SellerFixture.cleanBackend,
                 description: String = SellerFixture.cleanDescription) -> ListingContent {
        ListingContent(title: title, bullets: bullets, backendKeywords: backend, description: description)
    }

    func rules(_ c: ListingContent) -> [String] { validator.validate(c, context: context).map(\.ruleID) }

    @Test("the clean fixture breaks no rule and scores 100")
    func cleanListingScoresFull() {
        let violations = validator.validate(content(), context: context)
        #expect(violations.isEmpty, "\(violations)")
        #expect(validator.score(violations).score == 100)
    }

    @Test("a 230-character title is flagged with its length")
    func longTitle() throws {
        let title = SellerFixture.cleanTitle + " " + String(repeating: "x", count: 230 - SellerFixture.cleanTitle.count - 1)
        #expect(title.count == 230)
        let v = try #require(validator.validate(content(title: title), context: context).first { $0.ruleID == "listing.title.length" })
        #expect(v.evidence.contains(Evidence("characters", "230")))
        #expect(v.severity == .high)
    }

    @Test("a 200-character title passes: the limit is inclusive")
    func titleAtLimit() {
        let title = SellerFixture.cleanTitle + " " + String(repeating: "y", count: 200 - SellerFixture.cleanTitle.count - 1)
        #expect(title.count == 200)
        #expect(!rules(content(title: title)).contains("listing.title.length"))
    }

    @Test("each banned title character is found", arguments: ["!", "$", "?", "_", "{", "}", "^", "¬", "¦"])
    func bannedCharacters(_ ch: String) {
        #expect(rules(content(title: "Acme Water Bottle " + ch + " 32 oz")).contains("listing.title.banned_chars"))
    }

    @Test("articles, prepositions and conjunctions may repeat; other words at most twice")
    func exemptWords() {
        let exempt = "Acme Bottle for Kids and for Adults and for Travel with Lid and with Straw, a Cap, a Loop, a Bag"
        #expect(!rules(content(title: exempt)).contains("listing.title.repeated_words"))
        let twice = "Acme Bottle Steel Bottle 32 oz"
        #expect(!rules(content(title: twice)).contains("listing.title.repeated_words"))
        let thrice = "Acme Bottle, Steel Bottle, Kids Bottle 32 oz"
        let v = validator.validate(content(title: thrice), context: context).first { $0.ruleID == "listing.title.repeated_words" }
        #expect(v?.message.contains("bottle ×3") == true)
    }

    @Test("promotional phrases and marks in titles are flagged")
    func promotional() {
        #expect(rules(content(title: "Acme Water Bottle Free Shipping")).contains("listing.title.promotional"))
        #expect(rules(content(title: "Acme Water Bottle 100% Quality")).contains("listing.title.promotional"))
        #expect(rules(content(title: "Acme Best Seller Water Bottle")).contains("listing.title.promotional"))
    }

    @Test("bullet count, length, emojis, banned symbols, ASINs, placeholders and claims")
    func bullets() {
        #expect(rules(content(bullets: Array(SellerFixture.cleanBullets.prefix(3)))).contains("listing.bullets.count"))
        var long = SellerFixture.cleanBullets
        long[0] = String(repeating: "insulated ", count: 60)
        #expect(rules(content(bullets: long)).contains("listing.bullets.length"))
        for (text, rule) in [("Keeps drinks cold 🧊 all day", "listing.bullets.banned_symbols"),
                             ("Acme™ quality steel", "listing.bullets.banned_symbols"),
                             ("Fits the lid of B0ABCDEFGH bottles", "listing.bullets.asin"),
                             ("Color: N/A", "listing.bullets.placeholder"),
                             ("Eco-friendly and antimicrobial coating", "listing.bullets.claims"),
                             ("Money back guarantee if it leaks", "listing.bullets.claims")] {
            var b = SellerFixture.cleanBullets
            b[2] = text
            #expect(rules(content(bullets: b)).contains(rule), "\(text) should break \(rule)")
        }
    }

    @Test("a 260-byte backend field is flagged with its byte count")
    func backendOverBudget() throws {
        let words = ["flask", "canteen", "thermos", "hydration", "jug", "gym", "hiking", "camping", "cycling", "school", "office"]
        var backend = ""
        var i = 0
        while backend.utf8.count < 260 {
            backend += (backend.isEmpty ? "" : " ") + words[i % words.count] + String(i)
            i += 1
        }
        backend = String(backend.prefix(260))
        #expect(backend.utf8.count == 260)
        let v = try #require(validator.validate(content(backend: backend), context: context).first { $0.ruleID == "listing.backend.bytes" })
        #expect(v.evidence.contains(Evidence("bytes", "260")))
    }

    @Test("the backend budget counts UTF-8 bytes, not characters")
    func multibyteBudget() {
        // 100 characters of which 60 are 'ä' (2 bytes) and 20 are '€' (3 bytes): 20 + 120 + 60 = 200 bytes.
        let fits = String(repeating: "ä", count: 60) + String(repeating: "€", count: 20) + String(repeating: "a", count: 20)
        #expect(fits.count == 100 && fits.utf8.count == 200)
        #expect(!rules(content(backend: fits)).contains("listing.backend.bytes"))
        // 130 characters but 250 bytes: over the limit although far under 249 characters.
        let over = String(repeating: "ä", count: 120) + String(repeating: "b", count: 10)
        #expect(over.count == 130 && over.utf8.count == 250)
        #expect(rules(content(backend: over)).contains("listing.backend.bytes"))
        // Exactly 249 bytes passes.
        let exact = String(repeating: "€", count: 83)
        #expect(exact.utf8.count == 249)
        #expect(!rules(content(backend: exact)).contains("listing.backend.bytes"))
    }

    @Test("backend terms: repeats (plural counts), ASINs, brands, title words, subjective words, stop words")
    func backendHygiene() {
        #expect(rules(content(backend: "flask flasks canteen")).contains("listing.backend.repeats"))
        #expect(rules(content(backend: "flask b0abcdefgh canteen")).contains("listing.backend.asin"))
        #expect(rules(content(backend: "flask acme canteen")).contains("listing.backend.brand"))
        #expect(rules(content(backend: "flask hydro peak canteen")).contains("listing.backend.brand"))
        #expect(rules(content(backend: "flask bottle canteen")).contains("listing.backend.duplicates_content"))
        #expect(rules(content(backend: "flask best canteen")).contains("listing.backend.subjective"))
        #expect(rules(content(backend: "new flask canteen")).contains("listing.backend.subjective"))
        #expect(rules(content(backend: "flask for the canteen")).contains("listing.backend.stop_words"))
        #expect(rules(content(backend: "flask, canteen")).contains("listing.backend.punctuation"))
    }

    @Test("description: length, HTML other than <br>, contact details")
    func description() {
        #expect(rules(content(description: String(repeating: "steel ", count: 400))).contains("listing.description.length"))
        #expect(rules(content(description: "<p>Steel bottle</p><br>Cold")).contains("listing.description.html"))
        #expect(!rules(content(description: "Steel bottle<br/>Cold<br>drinks")).contains("listing.description.html"))
        for text in ["Write to help@acme-bottles.com", "See www.acme.example", "Call 1-800-555-0199 today", "Visit acme.com/bottles"] {
            #expect(rules(content(description: text)).contains("listing.description.contact"), "\(text)")
        }
    }

    @Test("the score breakdown names the rules that cost points")
    func scoreBreakdown() throws {
        let bad = content(title: "Acme Bottle!", backend: String(repeating: "ä", count: 130))
        let (score, components) = validator.score(validator.validate(bad, context: context))
        #expect(score < 100)
        let title = try #require(components.first { $0.name == "title" })
        #expect(title.failedRules == ["listing.title.banned_chars"])
        #expect(title.points == 15)
        let backend = try #require(components.first { $0.name == "backend" })
        #expect(backend.failedRules.contains("listing.backend.bytes"))
        #expect(components.map(\.weight).reduce(0, +) == 100)
    }
}
