// Threads, a mutex and a condition variable over POSIX threads, for the edge agent's modules,
// which use FoundationEssentials and so have no `Thread`, `NSLock` or `NSCondition`
// (Foundation proper pulls in ICU and several megabytes of resident pages; docs/agent.md).
import CThreadName

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A dedicated operating-system thread running one closure.
///
/// ```swift
/// let thread = PosixThread(name: "mqtt-network") { run() }
/// // ...
/// thread.join()
/// ```
public final class PosixThread: @unchecked Sendable {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    #if canImport(Darwin)
        private var handle: pthread_t?
    #else
        private var handle = pthread_t()
    #endif
    private var joined = false

    /// Starts a thread named `name` (the kernel keeps its first 15 bytes) running `body`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        let result = pthread_create(
            &handle, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                PosixThread.setCurrentName(start.name)
                start.body()
                return nil
            }, start)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    deinit {
        if !joined {
            #if canImport(Darwin)
                if let handle { pthread_detach(handle) }
            #else
                pthread_detach(handle)
            #endif
        }
    }

    /// Waits for the thread's closure to return. Call at most once.
    public func join() {
        precondition(!joined, "PosixThread joined twice")
        joined = true
        #if canImport(Darwin)
            if let handle { pthread_join(handle, nil) }
        #else
            pthread_join(handle, nil)
        #endif
    }

    /// Starts a thread that is never joined.
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        _ = PosixThread(name: name, body)
    }

    /// Blocks the calling thread for `seconds` (fractions allowed; interrupted sleeps resume).
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    private static func setCurrentName(_ name: String) {
        _ = agritrace_set_thread_name(name)
    }
}

/// A mutual-exclusion lock (`pthread_mutex_t`), usable across `lock()`/`unlock()` calls.
public final class PosixMutex: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// Creates an unlocked mutex.
    public init() {
        let result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Acquires the lock, waiting for it.
    public func lock() {
        let result = pthread_mutex_lock(mutex)
        precondition(result == 0, "pthread_mutex_lock failed: \(result)")
    }

    /// Releases the lock.
    public func unlock() {
        let result = pthread_mutex_unlock(mutex)
        precondition(result == 0, "pthread_mutex_unlock failed: \(result)")
    }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable with its own mutex (like `NSCondition`), timed on the monotonic clock.
public final class PosixCondition: @unchecked Sendable {
    private let mutex = PosixMutex()
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Creates a condition whose timed waits measure the monotonic clock.
    public init() {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        let result = pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        precondition(result == 0, "pthread_cond_init failed: \(result)")
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Acquires the condition's mutex.
    public func lock() { mutex.lock() }

    /// Releases the condition's mutex.
    public func unlock() { mutex.unlock() }

    /// Wakes every waiter (call holding the mutex).
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes one waiter (call holding the mutex).
    public func signal() { pthread_cond_signal(condition) }

    /// Waits (holding the mutex) until signalled or `seconds` pass; false on timeout.
    /// Wake-ups may be spurious: callers re-check their predicate.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        #if canImport(Darwin)
            let whole = max(seconds, 0).rounded(.down)
            var relative = timespec(tv_sec: Int(whole), tv_nsec: Int((max(seconds, 0) - whole) * 1_000_000_000))
            return pthread_cond_timedwait_relative_np(condition, mutex.mutex, &relative) == 0
        #else
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let nanoseconds = Int(max(seconds, 0) * 1_000_000_000)
            deadline.tv_sec +=
                nanoseconds / 1_000_000_000 + (deadline.tv_nsec + nanoseconds % 1_000_000_000) / 1_000_000_000
            deadline.tv_nsec = (deadline.tv_nsec + nanoseconds % 1_000_000_000) % 1_000_000_000
            return pthread_cond_timedwait(condition, mutex.mutex, &deadline) == 0
        #endif
    }

    /// Waits (holding the mutex) until signalled. Wake-ups may be spurious.
    public func wait() { pthread_cond_wait(condition, mutex.mutex) }
}

/// Milliseconds on the monotonic clock since an arbitrary origin: deadlines that a step of
/// the wall clock must not move.
public func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Seconds on the monotonic clock since an arbitrary origin, for deadlines.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
}
