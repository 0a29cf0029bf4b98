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
            request.tlsConfiguration = tls
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
        } catch {
            throw .retryable(Self.describe(error))
        }
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
