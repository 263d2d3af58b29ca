import CMosquitto
import PosixThreads
import Synchronization

/// The client's network thread: runs `mosquitto_loop` and reconnects itself, until ``stop()``.
///
/// Not `mosquitto_loop_forever`, for two reasons. It *returns* on errors it deems fatal —
/// among them `errno == EPROTO`, which OpenSSL 3 produces when a TLS peer vanishes without a
/// close_notify ("unexpected eof", a broker that crashed or lost power) — so a TLS client
/// would never reconnect. And while the broker is down it sleeps its reconnect delay (up to
/// the maximum, 30 s by default) in a wait that `mosquitto_disconnect` does not interrupt,
/// and a reconnect attempt racing with the disconnect resets libmosquitto's state so that it
/// never stops: `disconnect()` (and with it a SIGTERM drain of `serve` or the agent) could
/// hang for the delay, or for good. Here every pass of `mosquitto_loop` (at most one second)
/// checks this loop's own stop flag, and the reconnect delay is a wait ``stop()`` wakes.
final class NetworkLoop: Sendable {
    private let handle: MosquittoHandle
    private let delay: MQTTClient.ReconnectDelay
    private let connections: @Sendable () -> Int
    private let stopping = Atomic<Bool>(false)
    /// Signalled by ``stop()`` to cut the reconnect delay short.
    private let wake = PosixCondition()
    private let thread = Mutex<PosixThread?>(nil)
    /// How many times the connection was lost or refused and a reconnect was scheduled.
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
            // One pass: network I/O, keepalive, at most one second in select (publishes from
            // other threads wake it through libmosquitto's socket pair).
            let rc = mosquitto_loop(handle.pointer, 1000, 1)
            if rc == MOSQ_ERR_SUCCESS.rawValue || stopping.load(ordering: .acquiring) { continue }
            // Connection lost or refused: back off (reset once a connection succeeded in
            // between), then reconnect.
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
