import AgriTraceCore

/// What the countersigning contract reads of an `addTransfer` on the ledger.
public struct TransferFacts: Sendable, Hashable {
    public var requestID: String
    public var receiver: String
    public var recordCount: UInt32
    public var blobDigest: Digest32
    public var status: TransferStatus
    /// The transfer-report contract's outcome (only an applied report can be countersigned).
    public var outcome: EventOutcome

    public init(
        requestID: String, receiver: String, recordCount: UInt32, blobDigest: Digest32, status: TransferStatus,
        outcome: EventOutcome
    ) {
        self.requestID = requestID
        self.receiver = receiver
        self.recordCount = recordCount
        self.blobDigest = blobDigest
        self.status = status
        self.outcome = outcome
    }
}

/// What the countersigning contract reads of the world state.
public protocol TransferCountersigningStateView {
    /// The transfer report at `leaf`, or nil.
    func transferFacts(atLeaf leaf: UInt64) throws -> TransferFacts?
    /// The leaf of the countersignature of the transfer at `transferLeaf`, or nil.
    func countersignatureLeaf(transferLeaf: UInt64) throws -> UInt64?
}

/// The countersigning contract (`countersignTransfer`, docs/governance.md): a transfer is
/// complete only when its receiver countersigns what it received. The receiver names the
/// transfer and the digest and count of what it received; they must equal what the owner's
/// transfer service reported.
public enum TransferCountersigning {
    /// Why a countersignature is refused: a typed code and a message naming the field and the fix.
    public enum Refusal: ContractRefusal {
        case unknownTransfer(leaf: UInt64, requestID: String)
        case notDelivered(leaf: UInt64)
        case notReceiver(receiver: String, submitter: String)
        case alreadyCountersigned(leaf: UInt64, at: UInt64)
        case digestMismatch(received: Digest32, reported: Digest32)
        case countMismatch(received: UInt32, reported: UInt32)

        /// The refusal's code, as the audit prints it.
        public var code: String {
            switch self {
            case .unknownTransfer: "unknown-transfer"
            case .notDelivered: "not-delivered"
            case .notReceiver: "not-receiver"
            case .alreadyCountersigned: "already-countersigned"
            case .digestMismatch: "digest-mismatch"
            case .countMismatch: "count-mismatch"
            }
        }

        /// What is wrong, naming the field, and the fix.
        public var message: String {
            switch self {
            case .unknownTransfer(let leaf, let requestID):
                "transferLeaf: leaf \(leaf) is not an applied transfer of request \(requestID); name the transfer leaf agritrace fetch printed"
            case .notDelivered(let leaf):
                "transferLeaf: the transfer at leaf \(leaf) was refused by the owner; there is nothing to countersign"
            case .notReceiver(let receiver, let submitter):
                "submitter: only the receiver \(receiver) countersigns this transfer, not \(submitter)"
            case .alreadyCountersigned(let leaf, let at):
                "transferLeaf: the transfer at leaf \(leaf) is already countersigned (leaf \(at))"
            case .digestMismatch(let received, let reported):
                "receivedDigest: you received blobs with digest \(received.hex), the owner reported \(reported.hex); do not countersign: report the difference to the owner"
            case .countMismatch(let received, let reported):
                "recordCount: you received \(received) records, the owner reported \(reported); do not countersign: report the difference to the owner"
            }
        }

    }

    /// The `transfer_countersignatures` row.
    public struct Entry: Sendable, Hashable {
        public var countersignature: TransferCountersignature
        public var receiver: String
    }

    /// The typed outcome: the row (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Entry>

    /// `countersignTransfer` from `submitter`.
    public static func apply(
        _ countersignature: TransferCountersignature, submitter: String, view: some TransferCountersigningStateView
    ) throws -> Outcome {
        let result = try check(countersignature, submitter: submitter, view: view)
        return .decided(result, countersignature.requestID) { _ in
            "countersigned: \(countersignature.recordCount) records of the transfer at leaf \(countersignature.transferLeaf) received by \(submitter)"
        }
    }

    /// The row, or the first rule the countersignature breaks.
    public static func check(
        _ countersignature: TransferCountersignature, submitter: String, view: some TransferCountersigningStateView
    ) throws -> Result<Entry, Refusal> {
        let leaf = countersignature.transferLeaf
        guard let transfer = try view.transferFacts(atLeaf: leaf), transfer.outcome == .applied,
            transfer.requestID == countersignature.requestID
        else { return .failure(.unknownTransfer(leaf: leaf, requestID: countersignature.requestID)) }
        guard transfer.status == .delivered else { return .failure(.notDelivered(leaf: leaf)) }
        guard transfer.receiver == submitter else {
            return .failure(.notReceiver(receiver: transfer.receiver, submitter: submitter))
        }
        if let at = try view.countersignatureLeaf(transferLeaf: leaf) {
            return .failure(.alreadyCountersigned(leaf: leaf, at: at))
        }
        guard countersignature.receivedDigest == transfer.blobDigest else {
            return .failure(.digestMismatch(received: countersignature.receivedDigest, reported: transfer.blobDigest))
        }
        guard countersignature.recordCount == transfer.recordCount else {
            return .failure(.countMismatch(received: countersignature.recordCount, reported: transfer.recordCount))
        }
        return .success(Entry(countersignature: countersignature, receiver: submitter))
    }
}

/// Where a delivered transfer stands (docs/governance.md): countersigned by its receiver in
/// time or late, awaiting its countersignature, or overdue (unsigned past the deadline).
public enum TransferCompletion: String, Sendable, Hashable, Codable, CaseIterable {
    case complete
    case completeLate = "complete-late"
    case awaitingCountersignature = "awaiting-countersignature"
    case overdue

    /// The default deadline for the receiver's countersignature: 72 hours.
    public static let defaultDeadlineMilliseconds: Int64 = 72 * 3_600_000

    /// The status of a transfer made at `transferTime`, countersigned at `countersignedAt`
    /// (nil: not yet), seen at `now` (the latest block time), with `deadline` milliseconds to
    /// countersign. A countersignature exactly at the deadline is in time.
    public static func of(
        transferTime: Int64, countersignedAt: Int64?, now: Int64, deadline: Int64 = defaultDeadlineMilliseconds
    ) -> TransferCompletion {
        let due = transferTime + deadline
        if let countersignedAt { return countersignedAt <= due ? .complete : .completeLate }
        return now > due ? .overdue : .awaitingCountersignature
    }
}
