import AgriTraceCore
import Logging
import PosixThreads
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A flag that long-running loops check to stop.
public final class StopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)
    public init() {}
    /// Asks every loop watching this signal to stop.
    public func stop() { stopped.store(true, ordering: .releasing) }
    /// Whether ``stop()`` was called.
    public var isStopped: Bool { stopped.load(ordering: .acquiring) }
}

/// The one door into the store for every input: group commit with back-pressure.
///
/// ``submit(_:source:position:)`` blocks until the lines are durable. While the storage
/// budget is reached it waits (and the input stops reading, so a writer on stdin or the
/// socket blocks); it never drops a line.
public final class IntakeGate: Sendable {
    let store: AgentStore
    let classifier: Classifier
    let fastPath: ReadingFastPath
    let bootID: String
    let metrics: AgentMetrics
    let logger: Logger
    /// The inputs' stop signal: every input feeding this gate stops reading when it fires.
    let stopSignal: StopSignal
    /// Called after each commit that accepted readings (wakes the publisher).
    let onAccepted: @Sendable () -> Void

    public init(
        store: AgentStore, classifier: Classifier, bootID: String, metrics: AgentMetrics, logger: Logger,
        stopSignal: StopSignal, onAccepted: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.classifier = classifier
        self.fastPath = ReadingFastPath(catalog: classifier.catalog)
        self.bootID = bootID
        self.metrics = metrics
        self.logger = logger
        self.stopSignal = stopSignal
        self.onAccepted = onAccepted
    }

    /// Commits `lines`; retries while the budget is reached.
    /// - Returns: the outcome, or nil if the agent stopped before the lines could be stored.
    public func submit(_ lines: [InputLine], source: String, position: InputPosition? = nil) -> IntakeResult? {
        var waiting = false
        while true {
            do {
                let result = try store.ingest(
                    lines, source: source, position: position, classifier: classifier, bootID: bootID,
                    fastPath: fastPath)
                metrics.update {
                    $0.accepted += Int64(result.accepted)
                    $0.rejected += Int64(result.rejected)
                    $0.budgetReached = false
                    $0.filesystemFull = false
                }
                if waiting {
                    logger.notice("storage space again: intake resumed", metadata: ["source": "\(source)"])
                }
                if result.rejected > 0 {
                    logger.warning(
                        "rejected input lines",
                        metadata: [
                            "source": "\(source)", "count": "\(result.rejected)", "hint": "agritrace-agent rejects",
                        ])
                }
                if result.accepted > 0 { onAccepted() }
                return result
            } catch let error as StoreError {
                raiseAlarm(error, source: source)
                waiting = true
            } catch {
                metrics.update { $0.storeErrors += 1 }
                logger.error("store write failed; retrying", metadata: ["source": "\(source)", "error": "\(error)"])
                waiting = true
            }
            if stopSignal.isStopped { return nil }
            PosixThread.sleep(seconds: 0.2)
        }
    }

    /// Sets the gauge of the cause (the budget, or the filesystem itself) and logs the alarm
    /// once per episode, naming that cause.
    func raiseAlarm(_ error: StoreError, source: String) {
        var firstAlarm = false
        var event = "disk-budget-reached"
        metrics.update {
            switch error {
            case .filesystemFull:
                event = "filesystem-full"
                if !$0.filesystemFull {
                    $0.filesystemFull = true
                    $0.filesystemAlarms += 1
                    firstAlarm = true
                }
            case .budgetReached, .corrupt:
                if !$0.budgetReached {
                    $0.budgetReached = true
                    $0.budgetAlarms += 1
                    firstAlarm = true
                }
            }
        }
        if firstAlarm { logger.error("ALARM: \(error)", metadata: ["source": "\(source)", "event": "\(event)"]) }
    }
}
