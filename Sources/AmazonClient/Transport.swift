import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A fully read HTTP response (status, headers, body bounded in size).
struct RawResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer

    var data: Data { Data(buffer: body) }

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Why a single HTTP exchange failed before a status code was read.
enum TransportFailure: Error, Sendable {
    /// Connect/read timeout, reset or refused connection: worth retrying.
    case retryable(String)
    /// The body exceeded the byte limit.
    case tooLarge(Int)
    /// No connection that meets the TLS policy: the handshake failed (protocol version below the
    /// minimum, certificate not trusted) or the URL asks for plain HTTP to a host that is not loopback.
    /// Retrying cannot help, so it is never retried.
    case insecure(String)
}

/// Thin wrapper around AsyncHTTPClient applying TLS policy, timeouts and size bounds per service.
struct Transport: Sendable {
    let http: HTTPClient
    let config: AmazonClientConfig

    func send(service: AmazonService, method: HTTPMethod, url: URL, headers: HTTPHeaders, body: ByteBuffer?,
              maxBytes: Int) async throws(TransportFailure) -> RawResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers = headers
        if let body { request.body = .bytes(body) }
        if url.scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = config.minimumTLSVersion[service] ?? .tlsv13
            if !config.additionalTrustRoots.isEmpty {
                tls.additionalTrustRoots = config.additionalTrustRoots.map { .file($0) }
            }
            request.tlsConfiguration = tls
        } else if !AmazonEndpoints.isLoopback(url) {
            throw .insecure("refusing plain HTTP to \(url.host ?? "?"): only https is allowed beyond this machine")
        }
        let deadline = TimeAmount.nanoseconds(Int64(config.readTimeout.components.seconds) * 1_000_000_000
            + Int64(config.readTimeout.components.attoseconds / 1_000_000_000))
        do {
            let response = try await http.execute(request, timeout: deadline + .seconds(Int64(config.connectTimeout.components.seconds)))
            if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxBytes {
                throw TransportFailure.tooLarge(maxBytes)
            }
            let bytes = try await response.body.collect(upTo: maxBytes)
            return RawResponse(status: Int(response.status.code), headers: response.headers, body: bytes)
        } catch let failure as TransportFailure {
            throw failure
        } catch is NIOTooManyBytesError {
            throw .tooLarge(maxBytes)
        } catch let error as NIOSSLError {
            throw .insecure("TLS handshake with \(url.host ?? "?") failed (minimum \(Self.name(config.minimumTLSVersion[service] ?? .tlsv13))): \(Self.describe(tls: error))")
        } catch let error as NIOSSLExtraError {
            throw .insecure("TLS with \(url.host ?? "?") failed: \(error)")
        } catch {
            throw .retryable(Self.describe(error))
        }
    }

    /// `1.3` for `.tlsv13`, and so on, for error lines.
    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv13: "TLS 1.3"
        case .tlsv12: "TLS 1.2"
        case .tlsv11: "TLS 1.1"
        case .tlsv1: "TLS 1.0"
        default: "\(version)"
        }
    }

    /// BoringSSL's reason (`PROTOCOL_VERSION`, `CERTIFICATE_VERIFY_FAILED`, …) on one line.
    static func describe(tls error: NIOSSLError) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ").prefix(240).description
    }

    /// A short, secret-free description of a transport error.
    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .readTimeout: return "read timeout"
            case .connectTimeout: return "connect timeout"
            case .deadlineExceeded: return "deadline exceeded"
            case .remoteConnectionClosed: return "connection closed by server"
            default: return "HTTP client error \(e)"
            }
        }
        return "transport error \(type(of: error))"
    }
}
