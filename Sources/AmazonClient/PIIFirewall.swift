import Domain
import Foundation
import Logging

/// Drops any string that looks like a buyer's name, email, street address or phone number before storage.
///
/// The fetcher never asks Amazon for buyer data, but free-text fields (titles, descriptions, bullets,
/// search terms) are seller- or shopper-typed and can carry it. Values are checked generically: each
/// Domain value is encoded to JSON, every string is tested, an offending string is replaced by "" (in
/// arrays: removed), and the field path is logged — never the value.
public struct PIIFirewall: Sendable {
    /// What kind of personal data a value looked like.
    public enum Finding: String, Sendable { case email, phone, streetAddress, personName }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Fields holding Amazon-issued identifiers or enumerations; long digit runs there are ids, not phone numbers.
    static let identifierFields: Set<String> = [
        "asin", "sku", "marketplaceID", "campaignID", "adGroupID", "targetID", "sellerID", "buyBoxSellerID", "day", "weekStart",
        "weekEnd", "currency", "status", "state", "matchType", "kind", "productType", "fulfillmentChannel", "code", "severity", "condition",
        "targetingType",
    ]

    /// Returns `values` with personal data removed; logs one line per dropped field (seller, data set, field path).
    public func filter<T: Codable>(_ values: [T], dataSet: String, seller: SellerID) -> [T] {
        values.map { filter($0, dataSet: dataSet, seller: seller) }
    }

    public func filter<T: Codable>(_ value: T, dataSet: String, seller: SellerID) -> T {
        guard let data = try? JSONEncoder().encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return value }
        var dropped: [(String, Finding)] = []
        let cleaned = scrub(object, path: "", key: "", dropped: &dropped)
        guard !dropped.isEmpty else { return value }
        for (path, finding) in dropped {
            logger.warning("PII firewall dropped a value", metadata: ["seller": "\(seller)", "dataSet": "\(dataSet)", "field": "\(path)", "looksLike": "\(finding.rawValue)"])
        }
        guard let cleanedData = try? JSONSerialization.data(withJSONObject: cleaned),
              let decoded = try? JSONDecoder().decode(T.self, from: cleanedData) else { return value }
        return decoded
    }

    private func scrub(_ node: Any, path: String, key: String, dropped: inout [(String, Finding)]) -> Any {
        switch node {
        case let dict as [String: Any]:
            var out: [String: Any] = [:]
            for (k, v) in dict {
                let childPath = path.isEmpty ? k : "\(path).\(k)"
                if let s = v as? String, let finding = Self.classify(s, field: k) {
                    dropped.append((childPath, finding))
                    out[k] = ""
                } else {
                    out[k] = scrub(v, path: childPath, key: k, dropped: &dropped)
                }
            }
            return out
        case let array as [Any]:
            var out: [Any] = []
            for (i, v) in array.enumerated() {
                if let s = v as? String, let finding = Self.classify(s, field: key) {
                    dropped.append(("\(path)[\(i)]", finding))
                    continue
                }
                out.append(scrub(v, path: "\(path)[\(i)]", key: key, dropped: &dropped))
            }
            return out
        default:
            return node
        }
    }

    /// What personal data `value` looks like, if any.
    public static func classify(_ value: String, field: String = "") -> Finding? {
        if identifierFields.contains(field) { return value.contains("@") && matches(email, value) ? .email : nil }
        if matches(email, value) { return .email }
        if matches(phone, value) { return .phone }
        if matches(street, value) { return .streetAddress }
        if matches(labeledName, value) || looksLikeBareName(value) { return .personName }
        return nil
    }

    static let email = try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#)
    /// Phone numbers written with separators or a country prefix: `+1 206-555-0100`, `(206) 555-0100`, `206.555.0100`.
    static let phone = try! NSRegularExpression(pattern: #"(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.\-])\d{3,4}[\s.\-]\d{3,4}\b"#)
    /// "123 Main Street," — a house number, capitalised street words and a suffix that ends the phrase; the
    /// negative look-ahead keeps product phrases like "3 Pack Flash Drive" out.
    static let street = try! NSRegularExpression(pattern:
        #"\b\d{1,6}\s+(?!(?:Pack|Pcs|Piece|Pieces|Set|Count|Inch|Ft|Feet|Oz|Lb|Lbs|GB|TB|Gallon|Quart|Liter)\b)(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Strasse|Straße)\b\.?(?=\s*(?:,|$|\n|Apt|Suite|Unit|#|\d{5}))"#)
    /// A name introduced by a label only buyer data carries ("Ship to:", "Buyer:", "Dear …").
    static let labeledName = try! NSRegularExpression(pattern:
        #"(?i:\b(?:buyer|customer|ship(?:ped)?\s+to|recipient|bill\s+to|sold\s+to|dear|attn)\b)\s*[:,\-]?\s*[A-Z][a-z]+(?:\s+[A-Z]\.)?\s+[A-Z][a-z'\-]+"#)

    /// Common given names; a whole value of the form "Given Family" with one of them is treated as a person's name.
    static let givenNames: Set<String> = [
        "james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas", "charles", "christopher", "daniel",
        "matthew", "anthony", "mark", "donald", "steven", "paul", "andrew", "joshua", "kenneth", "kevin", "brian", "george", "timothy",
        "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen", "lisa", "nancy", "betty",
        "margaret", "sandra", "ashley", "kimberly", "emily", "donna", "michelle", "carol", "amanda", "melissa", "deborah", "stephanie",
        "anna", "maria", "laura", "hans", "peter", "klaus", "sophie", "marie", "pierre", "luca", "giulia", "jose", "juan", "carlos",
    ]

    static func looksLikeBareName(_ value: String) -> Bool {
        let words = value.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard (2...3).contains(words.count), let first = words.first, givenNames.contains(first.lowercased()) else { return false }
        return words.allSatisfy { w in w.first?.isUppercase == true && w.dropFirst().allSatisfy { $0.isLowercase || $0 == "." || $0 == "-" || $0 == "'" } }
    }

    static func matches(_ regex: NSRegularExpression, _ value: String) -> Bool {
        regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
    }
}
