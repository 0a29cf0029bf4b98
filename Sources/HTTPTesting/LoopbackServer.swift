public import Hummingbird
import Logging
import ServiceLifecycle

/// A real HTTP server on 127.0.0.1 for tests (webhook receivers, stub model endpoints).
///
/// Tests talk to it over loopback HTTP like to the real thing; it lives exactly as long as the test's body.
public enum LoopbackServer {
    /// Serves `router` on a free 127.0.0.1 port, runs `body` with its base URL (`http://127.0.0.1:PORT`), then
    /// shuts the server down gracefully, also when `body` throws.
    public static func run<T: Sendable>(_ router: Router<BasicRequestContext>, label: String,
                                        _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  if let port = channel.localAddress?.port { portSink.yield(port) }
                                  portSink.finish()
                              })
        let services = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: label)))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await services.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw LoopbackServerError(label: label) }
            do {
                let value = try await body("http://127.0.0.1:\(port)")
                await services.triggerGracefulShutdown()
                return value
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// The server stopped before it reported its port.
public struct LoopbackServerError: Error, CustomStringConvertible {
    public let label: String
    public var description: String { "test server \(label) did not report a port" }
}
