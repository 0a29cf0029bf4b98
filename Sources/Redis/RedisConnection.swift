import CHiredis
import Foundation

/// One blocking hiredis connection: sends commands and pipelines, converts replies.
///
/// Not `Sendable` on purpose: a hiredis context must be used by one thread at a time.
/// ``RedisClient`` confines each connection to its own serial dispatch queue.
final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>
    /// The protocol text of the pipeline being sent, reused between pipelines.
    private var buffer: [UInt8] = []
    /// SHA1s of the scripts this connection has seen the server run, so they can be sent as EVALSHA.
    var knownScripts: Set<String> = []

    /// Connects, authenticates and selects the database; throws a connection error naming the endpoint.
    init(endpoint: RedisEndpoint, timeout: TimeInterval) throws(RedisError) {
        let tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        guard let ctx = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), tv) else {
            throw RedisError(.connection, "cannot allocate a connection to \(endpoint)")
        }
        if ctx.pointee.err != 0 {
            let message = RedisConnection.errorString(ctx)
            redisFree(ctx)
            throw RedisError(.connection, "cannot connect to \(endpoint): \(message)")
        }
        context = ctx
        redisSetTimeout(ctx, tv)
        redisEnableKeepAlive(ctx)
        if let password = endpoint.password {
            let auth = endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            if case let .error(e) = try command(auth) {
                redisFree(ctx)
                throw RedisError(.connection, "authentication to \(endpoint) failed: \(e)")
            }
        }
        if endpoint.database != 0, case let .error(e) = try command(["SELECT", String(endpoint.database)]) {
            redisFree(ctx)
            throw RedisError(.connection, "cannot select database \(endpoint.database) on \(endpoint): \(e)")
        }
    }

    deinit { redisFree(context) }

    /// Changes the socket read/write timeout (blocking reads need more than their BLOCK time).
    func setTimeout(_ seconds: TimeInterval) {
        let tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        redisSetTimeout(context, tv)
    }

    /// Sends one command and waits for its reply.
    func command(_ args: [String]) throws(RedisError) -> RedisValue {
        try pipeline([args])[0]
    }

    /// Sends every command, then reads every reply: one network round trip for the batch.
    ///
    /// The whole pipeline is written in the Redis protocol into one reused buffer and handed to
    /// hiredis in a single append, instead of hiredis formatting each command separately.
    func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisValue] {
        buffer.removeAll(keepingCapacity: true)
        for args in commands {
            appendHeader(UInt8(ascii: "*"), args.count)
            for arg in args {
                appendHeader(UInt8(ascii: "$"), arg.utf8.count)
                buffer.append(contentsOf: arg.utf8)
                buffer.append(13)
                buffer.append(10)
            }
        }
        let status = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                redisAppendFormattedCommand(context, chars.baseAddress, chars.count)
            }
        }
        guard status == REDIS_OK else {
            throw RedisError(.connection, "cannot send command: \(RedisConnection.errorString(context))")
        }
        // A large buffer is not kept between pipelines (a big enqueue batch would pin its memory).
        if buffer.capacity > 1 << 20 { buffer = [] }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw RedisError(.connection, "connection lost: \(RedisConnection.errorString(context))")
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(RedisConnection.convert(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Appends `*count\r\n` or `$length\r\n`.
    private func appendHeader(_ kind: UInt8, _ value: Int) {
        buffer.append(kind)
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        } while divisor > 0
        buffer.append(13)
        buffer.append(10)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: r.str, count: Int(r.len))))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: Int(r.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: Int(r.len)), as: UTF8.self))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                if let element = r.element[i] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unsupported reply type \(r.type)")
        }
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafePointer(to: ctx.pointee.errstr) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
    }
}
