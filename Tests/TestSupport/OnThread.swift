import Foundation

/// Runs a blocking call on a thread of its own and awaits it, so blocking
/// clients and child processes never hold Swift's small shared pool, which
/// the other tests of a parallel run need for their own timeouts.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
