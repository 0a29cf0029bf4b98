import CompressNIO
import Domain
import Foundation
import NIOCore
import NIOFoundationCompat

/// A downloaded, decompressed report document, still in memory.
struct ReportDocument: Sendable {
    var bytes: Data
    /// Charset from the download's `Content-Type` (e.g. `Cp1252`), when present.
    var charset: String?
}

extension AmazonClient {
    /// Runs the Reports API lifecycle: create, poll getReport with backoff, getReportDocument, download, gunzip.
    ///
    /// Returns nil when the report ends CANCELLED (Amazon's way of saying "no data").
    func runReport(_ seller: SellerAuthorization, reportType: String, marketplaceID: String, start: String?, end: String?,
                   options: [String: String]) async throws(AmazonClientError) -> ReportDocument? {
        var spec: [String: Any] = ["reportType": reportType, "marketplaceIds": [marketplaceID]]
        if let start { spec["dataStartTime"] = start }
        if let end { spec["dataEndTime"] = end }
        if !options.isEmpty { spec["reportOptions"] = options }
        let body = try! JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
        let created = try await call(seller, .createReport, method: .POST, path: "/reports/2021-06-30/reports", json: body)
        let reportID = try decode(CreateReportResponse.self, created, operation: "createReport").reportId
        logger.debug("report created", metadata: ["seller": "\(seller.sellerID)", "reportType": "\(reportType)", "reportId": "\(reportID)"])

        let deadline = ContinuousClock.now.advanced(by: .seconds(config.reportTimeout))
        var delay = config.reportPollInitialDelay
        var status: ReportStatus
        while true {
            let response = try await call(seller, .getReport, method: .GET, path: "/reports/2021-06-30/reports/\(Self.pathSegment(reportID))")
            status = try decode(ReportStatus.self, response, operation: "getReport")
            switch status.processingStatus {
            case "DONE":
                break
            case "CANCELLED":
                return nil
            case "FATAL":
                throw .reportFailed(seller: seller.sellerID, operation: reportType, reportID: reportID, status: "FATAL")
            case "IN_QUEUE", "IN_PROGRESS":
                if ContinuousClock.now > deadline {
                    throw .reportFailed(seller: seller.sellerID, operation: reportType, reportID: reportID, status: "timed out \(status.processingStatus)")
                }
                try? await Task.sleep(for: .seconds(delay))
                delay = min(config.reportPollMaxDelay, delay * 2)
                continue
            default:
                throw .malformed(operation: "getReport", field: "processingStatus", reason: "unknown value '\(status.processingStatus.prefix(32))'")
            }
            break
        }
        guard let documentID = status.reportDocumentId else {
            throw .malformed(operation: "getReport", field: "reportDocumentId", reason: "missing on DONE report")
        }
        let docResponse = try await call(seller, .getReportDocument, method: .GET,
                                         path: "/reports/2021-06-30/documents/\(Self.pathSegment(documentID))")
        let info = try decode(ReportDocumentInfo.self, docResponse, operation: "getReportDocument")
        if let algorithm = info.compressionAlgorithm, algorithm != "GZIP" {
            throw .malformed(operation: "getReportDocument", field: "compressionAlgorithm", reason: "unsupported '\(algorithm.prefix(16))'")
        }
        return try await download(info.url, operation: reportType, seller: seller.sellerID, gzip: info.compressionAlgorithm == "GZIP")
    }

    /// Downloads a presigned document URL with a plain GET (no Amazon headers) and decompresses it in memory.
    func download(_ urlString: String, operation: String, seller: SellerID, gzip: Bool) async throws(AmazonClientError) -> ReportDocument {
        guard let url = URL(string: urlString), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw .malformed(operation: operation, field: "url", reason: "not an http(s) URL")
        }
        var failures = 0
        while true {
            let response: RawResponse
            do {
                response = try await transport.send(service: .download, method: .GET, url: url, headers: ["user-agent": config.userAgent],
                                                    body: nil, maxBytes: config.maxDocumentBytes)
            } catch {
                switch error {
                case .tooLarge(let limit): throw .tooLarge(operation: "\(operation) document", limit: limit)
                case .insecure(let why): throw .insecure(operation: "\(operation) document", reason: why)
                case .retryable(let why):
                    failures += 1
                    if failures >= config.retry.maxServerErrorAttempts {
                        throw .unavailable(seller: seller, operation: "\(operation) document", attempts: failures, lastError: why)
                    }
                    try? await Task.sleep(for: .seconds(config.retry.delay(attempt: failures)))
                    continue
                }
            }
            if (500...599).contains(response.status) {
                failures += 1
                if failures >= config.retry.maxServerErrorAttempts {
                    throw .unavailable(seller: seller, operation: "\(operation) document", attempts: failures, lastError: "HTTP \(response.status)")
                }
                try? await Task.sleep(for: .seconds(config.retry.delay(attempt: failures)))
                continue
            }
            guard response.status == 200 else {
                throw .rejected(seller: seller, operation: "\(operation) document", status: response.status, code: "download failed")
            }
            let encoded = response.header("Content-Encoding")?.lowercased() == "gzip"
            var body = response.body
            let bytes: Data
            if gzip || encoded {
                bytes = try Self.gunzip(&body, limit: config.maxDocumentBytes, operation: operation)
            } else {
                bytes = Data(buffer: body)
            }
            return ReportDocument(bytes: bytes, charset: Self.charset(fromContentType: response.header("Content-Type")))
        }
    }

    /// Gunzips in memory with a size bound; a truncated or corrupt stream is a `.malformed` error.
    static func gunzip(_ buffer: inout ByteBuffer, limit: Int, operation: String) throws(AmazonClientError) -> Data {
        // zlib stops quietly at the end of a truncated stream, so the gzip trailer's ISIZE (RFC 1952: the
        // uncompressed length mod 2^32, little-endian in the last four bytes) is checked against the output.
        let trailer = buffer.readableBytes >= 18 ? buffer.getBytes(at: buffer.writerIndex - 4, length: 4) : nil
        do {
            let out = try buffer.decompress(with: .gzip(), maxSize: limit)
            guard let trailer, buffer.readableBytes == 0 else { throw CompressNIOError.corruptData }
            let isize = UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
            guard isize == UInt32(truncatingIfNeeded: out.readableBytes) else { throw CompressNIOError.corruptData }
            return Data(buffer: out)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw .tooLarge(operation: "\(operation) document", limit: limit)
        } catch {
            throw .malformed(operation: operation, field: "document", reason: "gzip stream is truncated or corrupt")
        }
    }

    static func charset(fromContentType value: String?) -> String? {
        guard let value else { return nil }
        for part in value.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "charset" { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }
}

/// Decodes flat-file report text in the charset Amazon declared (Cp1252 for listings files).
enum TextDecoding {
    static func decode(_ data: Data, charset: String?) -> String {
        switch charset?.lowercased().replacingOccurrences(of: "-", with: "") {
        case "utf8":
            return String(decoding: data, as: UTF8.self)
        case "cp1252", "windows1252", "iso88591", "latin1", nil:
            // Amazon serves Cp1252 without always saying so; valid UTF-8 without a declaration is kept as UTF-8.
            if charset == nil, let utf8 = String(data: data, encoding: .utf8) { return utf8 }
            return cp1252(data)
        default:
            return String(data: data, encoding: .utf8) ?? cp1252(data)
        }
    }

    /// Windows-1252: Latin-1 except 0x80–0x9F, which carry typographic characters (€, ‘’, “”, –, —, ™ …).
    static func cp1252(_ data: Data) -> String {
        let high: [UInt32] = [0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                              0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178]
        // Transcoded to UTF-8 bytes first: appending scalar by scalar to a String is several times slower on
        // report-sized input, and nearly every byte of a listings file is ASCII.
        var utf8: [UInt8] = []
        utf8.reserveCapacity(data.count + data.count / 16)
        for byte in data {
            if byte < 0x80 {
                utf8.append(byte)
            } else {
                let code = (0x80...0x9F).contains(byte) ? high[Int(byte) - 0x80] : UInt32(byte)
                utf8.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}

/// Tab-separated flat-file reports, read by header name so added or reordered columns do not matter.
struct FlatFile {
    var header: [String]
    var rows: [[String: String]]

    init(text: String) {
        // Split on bytes (LF, CR; CRLF leaves an empty piece that is dropped): tabs and line breaks are ASCII, and
        // grapheme-aware Character splitting is much slower on reports with many thousands of rows.
        var lines = text.utf8.split(omittingEmptySubsequences: true, whereSeparator: { $0 == 0x0A || $0 == 0x0D })
            .map { String(Substring($0)) }
        guard !lines.isEmpty else { header = []; rows = []; return }
        var first = lines.removeFirst()
        if first.hasPrefix("\u{FEFF}") { first.removeFirst() }
        let names = first.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        header = names
        rows = lines.map { line in
            let cells = line.utf8.split(separator: 0x09, omittingEmptySubsequences: false).map { String(Substring($0)) }
            var row: [String: String] = [:]
            for (i, name) in names.enumerated() where i < cells.count { row[name] = cells[i] }
            return row
        }
    }
}
