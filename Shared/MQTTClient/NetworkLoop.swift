import CMosquitto
import PosixThreads
import Synchronization

/// The client's network thread: runs `mosquitto_loop_forever` and restarts it when it gives up.
///
/// libmosquitto's own thread (`mosquitto_loop_start`) reconnects by itself after ordinary
/// network errors, but `mosquitto_loop_forever` *returns* on errors it deems fatal — among
/// them `errno == EPROTO`, which OpenSSL 3 produces when a TLS peer vanishes without a
/// close_notify ("unexpected eof", e.g. a broker that crashed or lost power). The thread then
/// ends and a TLS client never reconnects. This loop supervises it: after such a return it
/// waits the reconnect delay (with backoff), calls `mosquitto_reconnect` and runs the loop
/// again, until ``stop()``.
final class NetworkLoop: Sendable {
    private let handle: MosquittoHandle
    private let delay: MQTTClient.ReconnectDelay
    private let connections: @Sendable () -> Int
    private let stopping = Atomic<Bool>(false)
    /// Signalled by ``stop()`` to cut the reconnect delay short.
    private let wake = PosixCondition()
    private let thread = Mutex<PosixThread?>(nil)
    /// How many times the loop had to be restarted after libmosquitto gave up.
    let restarts = Atomic<Int>(0)

    init(handle: MosquittoHandle, delay: MQTTClient.ReconnectDelay, connections: @escaping @Sendable () -> Int) {
        self.handle = handle
        self.delay = delay
        self.connections = connections
    }

    /// Starts the thread.
    func start() {
        // The library must lock its state: publish and subscribe come from other threads.
        mosquitto_threaded_set(handle.pointer, true)
        let started = PosixThread(name: "mqtt-network") { [self] in run() }
        thread.withLock { $0 = started }
    }

    private func run() {
        var failures: UInt32 = 0
        var connectionsBefore = connections()
        while !stopping.load(ordering: .acquiring) {
            _ = mosquitto_loop_forever(handle.pointer, -1, 1)
            if stopping.load(ordering: .acquiring) { break }
            // A fatal return: back off (reset once a connection succeeded in between), reconnect, loop again.
            let connectionsNow = connections()
            failures = connectionsNow > connectionsBefore ? 1 : failures + 1
            connectionsBefore = connectionsNow
            restarts.add(1, ordering: .relaxed)
            var seconds = max(delay.initialSeconds, 1)
            if delay.exponentialBackoff {
                seconds = UInt32(
                    min(UInt64(delay.maximumSeconds), UInt64(seconds) * UInt64(failures) * UInt64(failures)))
            }
            wake.lock()
            let deadline = ContinuousClock.now + .seconds(Int(max(seconds, 1)))
            while !stopping.load(ordering: .acquiring) && ContinuousClock.now < deadline {
                let left = ContinuousClock.now.duration(to: deadline).components
                wake.wait(seconds: Double(left.seconds) + Double(left.attoseconds) / 1e18)
            }
            wake.unlock()
            if stopping.load(ordering: .acquiring) { break }
            _ = mosquitto_reconnect(handle.pointer)
        }
    }

    /// Sends DISCONNECT, stops the thread and waits for it to exit.
    func stop() {
        stopping.store(true, ordering: .releasing)
        mosquitto_disconnect_v5(handle.pointer, 0, nil)
        wake.lock()
        wake.broadcast()
        wake.unlock()
        thread.withLock { $0.take() }?.join()
    }
}
