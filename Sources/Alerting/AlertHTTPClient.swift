import AsyncHTTPClient
import Domain
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Where one channel posts: an https URL, or http to a loopback host (local receivers and tests only).
public struct AlertEndpoint: Sendable, Equatable {
    public let url: URL
    /// `webhook` or `slack`.
    public let channel: String

    /// Validates `raw`; the refusal names the channel and why, never the URL's path (Slack paths are secrets).
    public init(_ raw: String, channel: String) throws(AlertEndpointError) {
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw AlertEndpointError(channel: channel, reason: "not an absolute URL")
        }
        switch scheme {
        case "https": break
        case "http" where LoopbackHost.contains(host): break
        case "http": throw AlertEndpointError(channel: channel, reason: "http is allowed for loopback hosts only; use https for \(host)")
        default: throw AlertEndpointError(channel: channel, reason: "scheme '\(scheme.prefix(20))' is not https")
        }
        guard url.user == nil, url.password == nil else {
            throw AlertEndpointError(channel: channel, reason: "credentials in the URL are not supported")
        }
        self.url = url
        self.channel = channel
    }

    /// `scheme://host[:port]`: what logs and errors show of the endpoint.
    public var label: String {
        "\(url.scheme ?? "")://\(url.host ?? "")" + (url.port.map { ":\($0)" } ?? "")
    }
}

/// A refused channel URL.
public struct AlertEndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public let channel: String
    public let reason: String
    public var description: String { "invalid \(channel) URL: \(reason)" }
}

/// The HTTP client alerts go out through: TLS 1.3 minimum, certificates verified, redirects refused
/// (a signed body must not be forwarded elsewhere), bounded connect and request time.
///
/// Owns an AsyncHTTPClient `HTTPClient`; call ``shutdown()`` before the process ends
/// (``AlerterJobs/withHTTPClient(_:)`` does).
public final class AlertHTTPClient: Sendable {
    let client: HTTPClient
    /// Whole-request deadline.
    public let requestTimeout: Duration

    public init(connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(15)) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.certificateVerification = .fullVerification
        let timeout = HTTPClient.Configuration.Timeout(connect: .init(connectTimeout), read: .init(requestTimeout))
        var configuration = HTTPClient.Configuration(timeout: timeout, decompression: .disabled)
        configuration.tlsConfiguration = tls
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.requestTimeout = requestTimeout
    }

    /// Closes connections; the client is unusable afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The outcome of one POST: the status, or why no answer came.
    enum Answer: Sendable, Equatable {
        case status(Int)
        case failed(String)
    }

    /// POSTs `body` as JSON with `headers`; reads at most 64 KiB of the answer (and drops it).
    func post(_ endpoint: AlertEndpoint, body: Data, headers: [(String, String)]) async -> Answer {
        var request = HTTPClientRequest(url: endpoint.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "OptMazon-Alerter/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .init(requestTimeout))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .status(Int(response.status.code))
        } catch {
            return .failed(Self.describe(error))
        }
    }

    /// One line naming the failure without URLs (Slack webhook paths are secrets).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .deadlineExceeded, .readTimeout: return "request timed out"
            case .remoteConnectionClosed: return "connection closed by the endpoint"
            default: return "HTTP client error \(String(describing: error).prefix(120))"
            }
        }
        if let error = error as? NIOSSLError { return "TLS failure: \(String(describing: error).prefix(120))" }
        if let error = error as? IOError { return "I/O error: \(error.description.prefix(120))" }
        return String(String(describing: error).prefix(160))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
