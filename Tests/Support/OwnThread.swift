import Foundation

/// Runs `body` on a thread of its own and awaits its result.
///
/// Swift Testing runs suites in parallel on the cooperative pool, which has one thread per
/// core (two here). A test that blocks a pool thread for long (waiting for a subprocess, a
/// polling loop with `Thread.sleep`) starves every other test's awaits on that pool: their
/// wall-clock deadlines (a broker's start, a receipt's arrival) then expire together. Long
/// blocking work goes through this instead.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = "agritrace-test-blocking"
        thread.start()
    }
}
