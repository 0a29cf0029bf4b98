import Foundation

/// Hosts on this machine: the only places OptMazon sends anything over plain HTTP (the local sandbox, test
/// receivers). Everything else must be https, so seller data never crosses a network unencrypted.
public enum LoopbackHost {
    /// `localhost`, `::1` (bracketed or not) or an IPv4 address in 127.0.0.0/8.
    public static func contains(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
