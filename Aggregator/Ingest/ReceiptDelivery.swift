import Metrics
import Synchronization

/// The receipt batches of the ingest service in flight: the tasks building them and the
/// publishes the broker has not acknowledged yet. A graceful stop waits for both
/// (``drain(log:timeout:)``) before it disconnects, so the last block's receipts reach the broker.
final class ReceiptDelivery: Sendable {
    private struct State {
        var tasks: [Task<Void, Never>] = []
        var published = 0
        var acknowledged = 0
    }

    private let state = Mutex(State())
    private let sent = Counter(label: "agritrace_receipt_batches_sent_total")

    /// Keeps `task` (building and publishing one block's receipts) until the drain.
    func track(_ task: Task<Void, Never>) {
        state.withLock { state in
            if state.tasks.count > 64 { state.tasks.removeFirst(state.tasks.count - 64) }
            state.tasks.append(task)
        }
    }

    /// One receipt batch handed to the MQTT client.
    func published() {
        state.withLock { $0.published += 1 }
        sent.increment()
    }

    /// One PUBACK from the broker for this client's publishes.
    func acknowledged() { state.withLock { $0.acknowledged += 1 } }

    /// Waits for the receipt tasks, then (at most `timeout`) for the broker's acknowledgements.
    /// Runs in a task of its own: the caller's task is cancelled by then (graceful stop).
    func drain(log: IngestLog, timeout: Duration = .seconds(5)) async {
        let tasks = state.withLock { $0.tasks }
        let complete = await Task {
            for task in tasks { await task.value }
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if state.withLock({ $0.acknowledged >= $0.published }) { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }.value
        if !complete {
            log("stopping with receipt batches the broker has not acknowledged; the devices resend those records")
        }
    }
}
