import Foundation

/// A failure inside a test helper, rendered as one line.
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Polls `condition` until it holds, failing with `what` after `timeout` seconds.
///
/// Tests wait on conditions with generous deadlines instead of sleeping and hoping.
public func eventually(_ what: String, timeout: Double = 60, every interval: Double = 0.05,
                       _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try await condition() { return }
        if Date() > deadline { throw CommandFailure("timed out after \(Int(timeout))s waiting until \(what)") }
        try await Task.sleep(for: .seconds(interval))
    }
}

/// Fresh private temporary directories for tests.
public enum TemporaryDirectory {
    /// Creates an owner-only directory under the system temp dir.
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optmazon-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }
}

/// A built executable of this package, run as a real process.
public final class ProductProcess: @unchecked Sendable {
    // Safety of @unchecked Sendable: `process` and the pipes are set once in init; Foundation's
    // Process is thread-safe for the calls used here (isRunning, terminate via kill, waitUntilExit),
    // and the captured output is guarded by `outputLock`.
    public let process: Process
    private let outputLock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    /// Directory holding the package's built products (next to the test bundle).
    public static var productsDirectory: URL {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("optmazon").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    /// Starts `name` from the products directory with `arguments` and `environment` added to this process's.
    public init(_ name: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = ProductProcess.productsDirectory.appendingPathComponent(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.outputLock.lock()
            self.stdoutData.append(data)
            self.outputLock.unlock()
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.outputLock.lock()
            self.stderrData.append(data)
            self.outputLock.unlock()
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public var standardOutput: String {
        outputLock.lock()
        defer { outputLock.unlock() }
        return String(decoding: stdoutData, as: UTF8.self)
    }

    public var standardError: String {
        outputLock.lock()
        defer { outputLock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit (killing it after `timeout`) and returns its exit status.
    @discardableResult
    public func wait(timeout: Double = 60) async throws -> Int32 {
        try await eventually("\(process.executableURL?.lastPathComponent ?? "process") exits", timeout: timeout) { !process.isRunning }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a product to completion and returns (status, stdout, stderr).
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: Double = 60) async throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try ProductProcess(name, arguments: arguments, environment: environment)
        let status = try await p.wait(timeout: timeout)
        try await Task.sleep(for: .milliseconds(20))
        return (status, p.standardOutput, p.standardError)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
