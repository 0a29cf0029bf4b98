import Foundation

/// Prints one line to standard error: how every command reports bad input.
public func printError(_ message: String) {
    let line = "error: \(message)\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

/// Prints one line to standard output without buffering surprises between processes.
public func printLine(_ message: String) {
    let line = message + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }
}

/// An error whose description is already the one line the operator should read.
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

