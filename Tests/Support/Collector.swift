import Synchronization

/// Drains an `AsyncStream` in a background task and keeps every element, so a test can
/// check what arrived with ``eventually(timeout:_:)`` without owning the iteration.
public final class Collector<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let items = Mutex<[Element]>([])
    }

    private let storage = Storage()
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts draining `stream`.
    public init(_ stream: AsyncStream<Element>) {
        let started = Task { [storage] in
            for await element in stream {
                storage.items.withLock { $0.append(element) }
            }
        }
        task.withLock { $0 = started }
    }

    /// Every element received so far, in order.
    public var values: [Element] { storage.items.withLock { $0 } }

    /// How many elements were received so far.
    public var count: Int { storage.items.withLock { $0.count } }

    /// Stops draining (this finishes the stream).
    public func cancel() { task.withLock { $0?.cancel() } }

    deinit { task.withLock { $0?.cancel() } }
}

/// Polls `condition` every 10 ms until it is true or `timeout` passes.
/// - Returns: whether the condition became true.
public func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
