import AgriTraceCore
import ArgumentParser
import Foundation
import Ledger
import LedgerClient

/// Queues signed transactions for `agritrace serve` and waits for them to be ordered.
enum Submitter {
    /// What became of a submission.
    struct Answer: Encodable {
        var submission: Int64
        /// `pending` (not yet ordered), `applied` (in a block) or `refused` (by admission).
        var status: SubmissionStatus
        var reason: String?
        var leafIndex: UInt64?
        /// For access transactions: the contract's outcome at block time.
        var outcome: EventOutcome?
        var detail: String?
    }

    /// Queues `transaction` in the store's submission queue and waits up to `wait` seconds
    /// for the server to order it into a block (or refuse it).
    static func submit<Value: SubmittableTransaction>(_ transaction: Signed<Value>, options: StoreOptions, wait: Double)
        throws -> Answer
    {
        guard options.api == nil else {
            throw UserError("registry transactions are signed with the authority key on the server: use --store")
        }
        return try submit(
            bytes: Canonical.encode(transaction), kind: Value.submissionKind, options: options, wait: wait)
    }

    /// Queues the canonical bytes of a signed transaction of `kind` in the store's submission
    /// queue and waits.
    static func submit(bytes: [UInt8], kind: SubmissionKind, options: StoreOptions, wait: Double) throws -> Answer {
        guard FileManager.default.fileExists(atPath: options.store) else {
            throw UserError("no ledger store at \(options.store) (use --store, and run `agritrace serve` on it)")
        }
        let store = try LedgerStore(path: options.store)
        let id = try store.submit(bytes: bytes, kind: kind)
        var state = try store.submissionStatus(id)
        let deadline = Date().addingTimeInterval(wait)
        while state.status == .pending && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            state = try store.submissionStatus(id)
        }
        var answer = Answer(submission: id, status: state.status, reason: state.reason, leafIndex: state.leafIndex)
        if let leaf = state.leafIndex, let event = try LedgerQueries(store: store).accessEvent(leaf: leaf) {
            answer.outcome = event.outcome
            answer.detail = event.detail
        }
        return answer
    }

    /// ``submit(_:options:wait:)``, then prints the answer; exits non-zero when refused.
    @discardableResult
    static func submitAndReport<Value: SubmittableTransaction>(
        _ transaction: Signed<Value>, options: StoreOptions, wait: Double, quiet: Bool = false
    ) throws -> Answer {
        let answer = try submit(transaction, options: options, wait: wait)
        try report(answer, options: options, quiet: quiet)
        return answer
    }

    /// Prints an answer (unless `quiet` and applied); throws `ExitCode(1)` when it was refused.
    static func report(_ answer: Answer, options: StoreOptions, quiet: Bool) throws {
        if options.json && !quiet {
            print(try Output.json(answer))
        } else if !quiet || answer.status != .applied {
            switch answer.status {
            case .applied:
                let outcome = answer.outcome.map { " (\($0.rawValue): \(answer.detail ?? ""))" } ?? ""
                print("applied: transaction is leaf \(answer.leafIndex ?? 0)\(outcome)")
            case .refused: print("refused: \(answer.reason ?? "")")
            case .pending: print("submitted (\(answer.submission)); `agritrace serve` orders it into the next block")
            }
        }
        if answer.status == .refused || answer.outcome == .refused { throw ExitCode(1) }
    }
}
