import Dispatch
import Ledger

/// Runs a ``ProposalApplier`` (its SQLite connections and the ledger) on a thread of its own,
/// never on Swift's cooperative pool: a block's fsync there could starve the task that renews
/// the sequencer's lease (docs/consortium.md, "Ordering through etcd").
///
/// `@unchecked Sendable`: the applier is used only on `queue`, one call at a time.
final class ApplierThread: @unchecked Sendable {
    private let applier: ProposalApplier
    private let queue = DispatchQueue(label: "agritrace.consortium.applier")

    init(_ applier: ProposalApplier) { self.applier = applier }

    /// Runs `body` with the applier on its thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (ProposalApplier) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.applier) }) }
        }
    }
}
