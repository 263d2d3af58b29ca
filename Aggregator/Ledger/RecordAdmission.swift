import AgriTraceCore
import LedgerCore

/// What became of one record offered to the pending block (``Ledger/appendRecord(_:entry:leafHash:from:into:)``).
public enum RecordAdmission: Sendable {
    /// Refused: the code and the reason go into the answer.
    case refused(RejectionCode, String)
    /// A duplicate whose receipt is answered (now, or when its block is written).
    case duplicate
    /// Added to the pending block.
    case admitted
}

// The seam ingest drives (the `Ingest` module, and later a consortium's sequencer): records
// that passed admission are offered one by one to the pending block, each batch's answer is
// held until the blocks holding its records commit, and the device's signature goes with the
// block. Blocks are then cut with `prepareBlock`/`write`/`finishBlockDeferringReceipts`
// (or `cutBlock`), which complete the held answers with their receipts.
extension Ledger {
    /// Offers a device's record, from a batch whose device and signature were checked, to the
    /// pending block. It is refused if the admission rules refuse it
    /// (``Admission/check(_:registry:authority:idChecked:)``, its id already checked against its
    /// sequence). A record id already pending, being written or on the ledger is a duplicate:
    /// its receipt goes into `answer` (now, or when its block commits) if the content (leaf
    /// hash) is the same, a refusal if not. A new record is appended and its receipt is due in
    /// `answer` when its block commits (hold the answer with ``holdUntilCommitted(_:)``).
    /// - Parameters:
    ///   - record: the record, decoded from `entry`.
    ///   - entry: the canonical bytes of its log entry, as received (not encoded again).
    ///   - leafHash: `MerkleTree.leafHash(entry)`.
    ///   - device: the device whose batch holds it (its sequence watermark).
    public func appendRecord(
        _ record: Record, entry: [UInt8], leafHash: Digest32, from device: RegistryState.DeviceKey,
        into answer: inout PendingAnswer
    ) -> RecordAdmission {
        let logEntry = LogEntry.record(record)
        if let violation = Admission.check(logEntry, registry: registry, authority: registryAuthority, idChecked: true)
        {
            return .refused(violation.code, violation.reason)
        }
        if let known = knownRecord(record, leafHash: leafHash, device: device, into: &answer) { return known }
        pendingRecords[record.id] = pending.count
        answer.waiting.append(pending.count)
        appendPending(PendingTransaction(entry: logEntry, bytes: entry, leafHash: leafHash, recordID: record.id))
        return .admitted
    }

    /// Keeps `answer` until the blocks holding its records commit; ``WrittenBlock/resolve()``
    /// then hands it back completed. An answer that ``PendingAnswer/isReady`` needs no holding.
    public func holdUntilCommitted(_ answer: PendingAnswer) {
        if !answer.isReady { pendingAnswers.append(answer) }
    }

    /// Keeps a device's batch signature with the pending block (written with it, for
    /// `agritrace verify --signatures`). Only for a batch whose records are all in the log.
    public func keepBatchSignature(_ signature: BatchSignature) {
        pendingSignatures.append(signature)
    }

    /// A record id already pending, being written or on the ledger: its receipt (now or with
    /// its block) if the content is the same, a refusal if not; nil for a new record. Below
    /// the device's sequence watermark only, the ledger is looked up.
    func knownRecord(
        _ record: Record, leafHash: Digest32, device: RegistryState.DeviceKey, into answer: inout PendingAnswer
    ) -> RecordAdmission? {
        if let index = pendingRecords[record.id] {
            guard pending[index].leafHash == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is already pending with other content")
            }
            answer.waiting.append(index)
            return .duplicate
        }
        if let index = inFlightRecords[record.id] {
            guard inFlightLeafHashes[index] == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is being written with other content")
            }
            answer.waitingInFlight.append(index)
            return .duplicate
        }
        if record.sequence > sequenceWatermarks[device] ?? 0 {
            sequenceWatermarks[device] = record.sequence
            return nil
        }
        do {
            guard let location = try reader.location(of: record.id) else { return nil }
            guard let stored = try reader.entry(leafIndex: location.leafIndex), stored.leafHash == leafHash else {
                return .refused(.conflictingDuplicate, "record id \(record.id) is on the ledger with other content")
            }
            answer.receipts.append(try receipt(for: record.id, at: location))
            return .duplicate
        } catch {
            return .refused(.internal, "the ledger could not look up record \(record.id): \(error); resend later")
        }
    }
}
